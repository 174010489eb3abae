"""CPU of one Lambda invocation through the emulator's worker runtime, in isolation.

    .venv/bin/python benchmarks/function_worker.py [--invocations 3000] [--rounds 3]
        [--baseline OLD_SRC_DIR] [--loop asyncio|uvloop]

``FunctionPool`` with one warm worker, invoked back to back (one at a time) with the
origin-response event the local edge builds for a typical origin reply. Two functions: the
shipped handler (strict preset, the staged bundle, as ``serve`` runs it) and an echo handler
that returns the response it is given (what the round trip costs around a handler that does
almost nothing). Reported per invocation: CPU time of the parent process (encoding the
invocation, reading and decoding the reply, log lines; from ``time.process_time``) and of the
worker process (from /proc/PID/stat), median over rounds. With ``--baseline``, the same cases
run against another ``src`` tree (``git archive main src | tar -x -C /tmp/base``), interleaved
in the same rounds, each case in a fresh process. ``--loop uvloop`` runs the parent on
uvloop's event loop, as ``edgeshield serve`` does where uvloop is installed
(``runner.loop_factory``); the default, asyncio's own loop, keeps older figures comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import machine

ROOT = Path(__file__).resolve().parents[1]
ECHO = "def handler(event, context):\n    return event['Records'][0]['cf']['response']\n"
ORIGIN_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", "2019"),
    ("Date", "Wed, 25 Nov 2026 10:00:00 GMT"),
    ("Server", "bench-origin"),
    ("Cache-Control", "max-age=3600"),
]


def _workers_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) of the worker processes, from /proc."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def _measure(
    function: str, invocations: int, concurrency: int, scratch: Path
) -> dict[str, float]:
    from edgeshield.bundle import stage
    from edgeshield.cloudfront import build_event
    from edgeshield.emulator.functions.runtime import FunctionPool, FunctionSpec
    from edgeshield.emulator.logstore import LogStore
    from edgeshield.policy import load_and_compile

    if function == "strict":
        root = stage(load_and_compile(None), scratch / "build")
        handler, stdlib_only = "edgeshield.edge.handler.handler", True
    else:
        root = scratch / "echo"
        root.mkdir()
        (root / "echo.py").write_text(ECHO)
        handler, stdlib_only = "echo.handler", False
    spec = FunctionSpec(
        "origin-response", handler, root, "bench", 128, 30.0, "us-east-1", stdlib_only
    )
    logs = LogStore(scratch / "logs", buffered=True)
    event = build_event("origin-response", uri="/page", response_headers=ORIGIN_HEADERS)
    # One worker when invoked one at a time; at concurrency 16, serve's default of 4.
    pool = FunctionPool(spec, logs, max_workers=min(concurrency, 4), scratch=scratch)
    statuses: list[str] = []

    async def client(count: int) -> None:
        for _ in range(count):
            statuses.append((await pool.invoke(event)).status)

    async def burst(total: int) -> None:
        await asyncio.gather(*(client(total // concurrency) for _ in range(concurrency)))

    await pool.start()
    try:
        await burst(200 * concurrency)  # warm: every worker, imports, caches, the allocator
        logs.flush()
        pids = [w.proc.pid for w in pool._idle if w.proc is not None]
        worker0, parent0, wall0 = _workers_cpu(pids), time.process_time(), time.perf_counter()
        await burst(invocations)
        logs.flush()
        worker1, parent1, wall1 = _workers_cpu(pids), time.process_time(), time.perf_counter()
        assert set(statuses) == {"ok"}, set(statuses)
    finally:
        await pool.close()
    done = invocations // concurrency * concurrency
    return {
        "parent_us": (parent1 - parent0) / done * 1e6,
        "worker_us": (worker1 - worker0) / done * 1e6,
        "wall_us": (wall1 - wall0) / done * 1e6,
    }


def _child(function: str, invocations: int, concurrency: int, loop: str) -> None:
    factory = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with tempfile.TemporaryDirectory(prefix="edgeshield-bench-") as tmp:
        coro = _measure(function, invocations, concurrency, Path(tmp))
        with asyncio.Runner(loop_factory=factory) as runner:
            result = runner.run(coro)
    print(json.dumps(result))


def _run_case(src: Path, case: str, invocations: int, loop: str) -> dict[str, float]:
    function, concurrency = case.split("@")
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, __file__, "--child", function, "--invocations", str(invocations)]
    argv += ["--concurrency", concurrency, "--loop", loop]
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def _report(
    results: dict[str, list[dict[str, float]]], args: argparse.Namespace, load: float
) -> None:
    print(f"# {machine.describe()}, {machine.utc_now()}")
    print(f"# {args.invocations} invocations per case and round, {args.rounds} rounds (medians);")
    print(f"# parent on {args.loop}'s event loop;")
    print(f"# 1-minute load average before the run {load:.2f}, after {os.getloadavg()[0]:.2f}")
    print("| function @ concurrency | parent CPU µs | worker CPU µs | wall µs |")
    print("| --- | ---: | ---: | ---: |")
    for name, rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        cells = f"{med['parent_us']:.0f} | {med['worker_us']:.0f} | {med['wall_us']:.0f}"
        print(f"| {name} | {cells} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another src tree, measured alike")
    parser.add_argument(
        "--loop", choices=["asyncio", "uvloop"], default="asyncio", help="the parent's event loop"
    )
    parser.add_argument("--child", choices=["strict", "echo"], help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.invocations, args.concurrency, args.loop)
        return
    load = os.getloadavg()[0]
    trees = [("", ROOT / "src")]
    if args.baseline:
        trees.append(("baseline ", args.baseline.resolve()))
    results: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.rounds):
        for case in ("strict@1", "echo@1", "strict@16"):
            for label, src in trees:
                row = _run_case(src, case, args.invocations, args.loop)
                results.setdefault(f"{label}{case}", []).append(row)
    _report(results, args, load)


if __name__ == "__main__":
    main()
