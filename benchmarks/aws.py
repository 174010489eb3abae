"""AWS-side figures: the collector's per-report cost and cold start, its package size, and how
long ``edgeshield synth`` takes.

    .venv/bin/python benchmarks/aws.py [--synth-runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from edgeshield.aws.collector import Collector
from edgeshield.aws.kms_env import Secret
from edgeshield.packaging import collector_files, stage_collector

CSP2 = json.dumps(
    {
        "csp-report": {
            "document-uri": "https://example.com/account?x=1",
            "effective-directive": "script-src-elem",
            "blocked-uri": "https://cdn.example.net/lib.js?v=2",
            "disposition": "enforce",
            "status-code": 200,
        }
    }
)
BATCH = json.dumps(
    [
        {
            "type": "csp-violation",
            "url": "https://example.com/",
            "user_agent": "Mozilla/5.0",
            "body": {
                "documentURL": "https://example.com/",
                "blockedURL": "inline",
                "effectiveDirective": "style-src-attr",
                "disposition": "report",
            },
        }
    ]
    * 10
)


def event(body: str, content_type: str) -> dict[str, object]:
    return {
        "headers": {"content-type": content_type, "user-agent": "Mozilla/5.0"},
        "requestContext": {"http": {"method": "POST"}},
        "body": body,
        "isBase64Encoded": False,
    }


def per_call_us(ev: dict[str, object], rounds: int = 7, n: int = 5000) -> float:
    collector = Collector(Secret("off"), emit=lambda _line: None)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            collector.handle(ev)
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def cold_start_ms(runs: int = 20) -> float:
    asset = stage_collector(Path(tempfile.mkdtemp(prefix="collector-bench-")))
    env = dict(os.environ, PYTHONPATH=str(asset))
    env.pop("EDGESHIELD_SECRET_CIPHERTEXT", None)

    def timed(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-S", "-B", "-c", code], env=env, check=True)
        return time.perf_counter() - start

    load = "from edgeshield.aws import collector"
    base = "import json"
    diffs = [timed(load) - timed(base) for _ in range(runs)]
    return statistics.median(diffs) * 1000


def asset_zip_bytes() -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in collector_files().items():
            archive.writestr(name, content)
    return len(buffer.getvalue())


def synth_seconds(runs: int) -> list[float]:
    exe = str(Path(sys.executable).with_name("edgeshield"))
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [exe, "synth", "--out", f"{tmp}/out", "--json"],
                cwd=tmp,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synth-runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"collector, one report-uri report: {per_call_us(event(CSP2, 'application/csp-report')):.1f} µs"
    )
    print(
        f"collector, Reporting API batch of 10: {per_call_us(event(BATCH, 'application/reports+json'), n=1000):.1f} µs"
    )
    print(f"collector cold start over a bare interpreter: {cold_start_ms():.2f} ms")
    print(f"collector package, compressed: {asset_zip_bytes():,} bytes")
    if args.synth_runs:
        times = synth_seconds(args.synth_runs)
        print("edgeshield synth wall time: " + ", ".join(f"{t:.1f} s" for t in times))


if __name__ == "__main__":
    main()
