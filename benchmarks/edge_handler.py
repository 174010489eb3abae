"""Edge function cost: per event, cold start, bundle size.

    .venv/bin/python benchmarks/edge_handler.py [--rounds N] [--events N]

Per event: the shipped handler (strict preset) against a minimal handler that sets six fixed
headers, on two origin-response events of 15 origin headers each (a typical one, and an S3 +
Express one where six headers are in the strict removal list), interleaved in the same run so
machine noise hits both alike. Every invocation gets a fresh event, decoded from JSON as
Lambda's runtime hands it over (decoding is not timed). Cold start: a fresh interpreter importing the
handler from the bundle and invoking it once, minus a bare interpreter doing nothing — what
Lambda adds to the first request of a new execution environment, without the runtime's own
start. The bundle is the zip `edgeshield bundle` writes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import machine
from edgeshield.bundle import build_zip
from edgeshield.cloudfront import build_event
from edgeshield.policy import load_and_compile

ORIGIN_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", "5123"),
    ("Date", "Wed, 25 Nov 2026 10:00:00 GMT"),
    ("Server", "nginx/1.25.3"),
    ("X-Powered-By", "Express"),
    ("ETag", '"5f2b-1a2b3c"'),
    ("Last-Modified", "Tue, 24 Nov 2026 09:00:00 GMT"),
    ("Cache-Control", "max-age=300"),
    ("Vary", "Accept-Encoding"),
    ("Accept-Ranges", "bytes"),
    ("Set-Cookie", "session=abc; Secure; HttpOnly; SameSite=Lax"),
    ("X-Request-Id", "3f2a9c1e"),
    ("Via", "1.1 varnish"),
    ("Age", "0"),
    ("Connection-Id", "42"),
]

# An S3 object served through an Express/Next.js layer: six of these are in the strict preset's
# removal list (Server, X-Powered-By, X-Envoy-Upstream-Service-Time, X-B3-TraceId,
# X-Nextjs-Cache, X-Generator).
REMOVAL_HEAVY_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", "18244"),
    ("Date", "Wed, 25 Nov 2026 10:00:00 GMT"),
    ("Last-Modified", "Tue, 24 Nov 2026 09:00:00 GMT"),
    ("ETag", '"9b2cf535f27731c974343645a3985328"'),
    ("Accept-Ranges", "bytes"),
    ("Server", "AmazonS3"),
    ("x-amz-id-2", "ZQ6tbhMzC7w4lXqXHeF+fLkEBhtj8bKv1kXvC3bE4xQ="),
    ("x-amz-request-id", "4B0E2C6F1A9D3E57"),
    ("x-amz-version-id", "null"),
    ("X-Powered-By", "Express"),
    ("X-Envoy-Upstream-Service-Time", "12"),
    ("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"),
    ("X-Nextjs-Cache", "HIT"),
    ("X-Generator", "Next.js"),
]

EVENTS = {"typical": ORIGIN_HEADERS, "removal-heavy": REMOVAL_HEAVY_HEADERS}

MINIMAL_HEADERS = [
    (
        "strict-transport-security",
        "Strict-Transport-Security",
        "max-age=63072000; includeSubDomains",
    ),
    ("content-security-policy", "Content-Security-Policy", "default-src 'none'"),
    ("x-content-type-options", "X-Content-Type-Options", "nosniff"),
    ("x-frame-options", "X-Frame-Options", "DENY"),
    ("x-xss-protection", "X-XSS-Protection", "0"),
    ("referrer-policy", "Referrer-Policy", "no-referrer"),
]


def minimal_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The smallest correct origin-response handler: six fixed headers, set in place."""
    response: dict[str, Any] = event["Records"][0]["cf"]["response"]
    headers = response["headers"]
    for name, key, value in MINIMAL_HEADERS:
        headers[name] = [{"key": key, "value": value}]
    return response


def per_event(rounds: int, events: int, origin_headers: list[tuple[str, str]]) -> dict[str, float]:
    from edgeshield.edge.handler import handler  # the strict preset ships as policy.json

    wire = json.dumps(
        build_event("origin-response", uri="/index.html", response_headers=origin_headers)
    )
    ours: list[float] = []
    minimal: list[float] = []
    for _ in range(rounds):
        for fn, samples in ((handler, ours), (minimal_handler, minimal)):
            batch = [json.loads(wire) for _ in range(events)]  # fresh, as Lambda decodes each
            for event in batch:
                start = time.perf_counter_ns()
                fn(event, None)
                samples.append((time.perf_counter_ns() - start) / 1000)
    q = statistics.quantiles
    return {
        "ours_p50": statistics.median(ours),
        "ours_p99": q(ours, n=100)[98],
        "minimal_p50": statistics.median(minimal),
        "minimal_p99": q(minimal, n=100)[98],
    }


def cold_start(root: Path, runs: int) -> dict[str, float]:
    event = json.dumps(build_event("origin-response", response_headers=ORIGIN_HEADERS))
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import json;"
        "from edgeshield.edge.handler import handler; handler(json.loads(sys.argv[2]), None)"
    )
    python = sys.executable  # the venv's interpreter: no pyenv shim in the measurement
    bare: list[float] = []
    full: list[float] = []
    for _ in range(runs):
        for cmd, samples in (
            ([python, "-I", "-S", "-c", "import sys, json", str(root), event], bare),
            ([python, "-I", "-S", "-B", "-c", script, str(root), event], full),
        ):
            start = time.perf_counter()
            subprocess.run(cmd, check=True)
            samples.append((time.perf_counter() - start) * 1000)
    return {
        "bare_ms": statistics.median(bare),
        "full_ms": statistics.median(full),
        "added_ms": statistics.median(full) - statistics.median(bare),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--cold-runs", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        info = build_zip(load_and_compile(None), Path(tmp) / "edge.zip")
        root = Path(tmp) / "bundle"
        with zipfile.ZipFile(info.path) as archive:
            archive.extractall(root)  # no __pycache__: as on Lambda's read-only file system
        cold = cold_start(root, args.cold_runs)
    lines = []
    for name, origin_headers in EVENTS.items():
        hot = per_event(args.rounds, args.events, origin_headers)
        ratio = hot["ours_p50"] / hot["minimal_p50"]
        print(
            f"{name:14s} edgeshield strict: p50 {hot['ours_p50']:.2f} µs  p99 {hot['ours_p99']:.2f} µs"
            f" | minimal 6 headers: p50 {hot['minimal_p50']:.2f} µs  p99 {hot['minimal_p99']:.2f} µs"
            f" | ratio p50 {ratio:.2f}x (target <= 1.5x)"
        )
        lines.append(
            f"| {name} | {hot['ours_p50']:.2f} / {hot['ours_p99']:.2f} µs "
            f"| {hot['minimal_p50']:.2f} / {hot['minimal_p99']:.2f} µs | **{ratio:.2f}×** |"
        )
    print(
        f"cold start: import + first invoke {cold['added_ms']:.2f} ms over a bare interpreter "
        f"({cold['full_ms']:.1f} vs {cold['bare_ms']:.1f} ms; target <= 10 ms)"
    )
    print(f"bundle: {info.size:,} bytes compressed (target <= 100 KB), sha256 {info.sha256[:16]}")
    print(f"\nmachine: {machine.describe()}; date: {machine.utc_now()}")
    print("| event | edgeshield strict p50 / p99 | minimal six-header p50 / p99 | ratio (p50) |")
    print("|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
