"""Findings per second: ``edgeshield.csp.evaluator.evaluate`` against Google's npm
``csp_evaluator`` on the same generated policies.

The policies come from the differential test's generator (seeds 0-3, 1,000 each), minus those
the npm package throws on, so both sides do the same work. Python and a long-running Node
process take turns, one timed pass over the whole set each (process start and JSON reading not
counted), so both see the same load; the median pass is reported. Bounded: 7 passes by default.

    .venv/bin/python benchmarks/csp_evaluator.py [--rounds N] [--evaluator-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the generator lives with the tests

from tests.csp.evaluator.policies import cases  # noqa: E402

from edgeshield.csp.evaluator import Version, evaluate, sources_without_host, urls  # noqa: E402

HARNESS = ROOT / "tests/csp/evaluator/evaluator_harness.js"


def clear_caches() -> None:
    for memo in (urls.scheme_free, urls.source_url, urls.hostname, urls.script_bypass,
                 urls.flash_bypass):  # fmt: skip
        memo.cache_clear()


def python_pass(batch: list[dict[str, Any]], cold: bool = False) -> tuple[float, int]:
    if cold:
        clear_caches()
    start = time.perf_counter()
    count = sum(len(evaluate(c["csp"], Version(c["version"]))) for c in batch)
    return time.perf_counter() - start, count


def interleaved(
    batch: list[dict[str, Any]], rounds: int, folder: Path
) -> tuple[list[float], list[float], list[float], int, int]:
    """Alternate a Python pass with its memo caches cleared, a warm one, and a Node pass (Node kept running, so its JIT stays warm)
    so both sides see the same load on a shared machine. One untimed warm-up pass each."""
    node = subprocess.Popen(
        ["node", str(HARNESS), str(folder), "--bench"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert node.stdin is not None and node.stdout is not None
    py_times: list[float] = []
    cold_times: list[float] = []
    js_times: list[float] = []
    py_count = js_count = 0
    try:
        node.stdin.write(json.dumps(batch) + "\n")
        node.stdin.flush()
        json.loads(node.stdout.readline())
        for i in range(rounds + 1):
            cold, _count = python_pass(batch, cold=True)
            seconds, py_count = python_pass(batch)
            node.stdin.write("run\n")
            node.stdin.flush()
            answer = json.loads(node.stdout.readline())
            js_count = answer["findings"]
            if i:
                py_times.append(seconds)
                cold_times.append(cold)
                js_times.append(answer["seconds"])
    finally:
        node.stdin.close()
        node.wait(timeout=60)
    return py_times, cold_times, js_times, py_count, js_count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--evaluator-dir", type=Path, default=ROOT / ".cache/csp-evaluator")
    args = parser.parse_args()

    generated = [c for seed in range(4) for c in cases(seed, 1000)]
    batch = [c for c in generated if not sources_without_host(c["csp"], Version(c["version"]))]
    py_times, cold_times, js_times, py_findings, js_findings = interleaved(
        batch, args.rounds, args.evaluator_dir
    )
    if py_findings != js_findings:
        print(f"finding counts differ: ours {py_findings}, npm {js_findings}", file=sys.stderr)
        return 1
    py, js = statistics.median(py_times), statistics.median(js_times)
    cold = statistics.median(cold_times)
    print(f"{len(batch)} policies ({len(generated) - len(batch)} the npm package throws on left out), "
          f"{py_findings} findings per pass, median of {args.rounds} passes")  # fmt: skip
    print(f"{'':28}{'policies/s':>12}{'findings/s':>12}")
    print(f"{'edgeshield (Python)':28}{len(batch) / py:>12,.0f}{py_findings / py:>12,.0f}")
    print(
        f"{'edgeshield, caches cleared':28}{len(batch) / cold:>12,.0f}{py_findings / cold:>12,.0f}"
    )
    print(f"{'csp_evaluator 1.1.8 (Node)':28}{len(batch) / js:>12,.0f}{js_findings / js:>12,.0f}")
    print(
        f"ratio edgeshield / npm: {js / py:.2f} (fastest passes: "
        f"{min(js_times) / min(py_times):.2f}); caches cleared: {js / cold:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
