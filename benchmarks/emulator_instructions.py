"""Instructions per request of the server process, counted by valgrind's callgrind: the edge
on misses (`serve --no-cache`, strict policy at origin-response; and the same policy as a
response headers policy, `--mechanism response-headers-policy`) against the bare aiohttp
reverse proxy of benchmarks/emulator.py, in front of the same origin; and the edge on cache
hits (both mechanisms) against the origin itself (an aiohttp application answering from
memory) and the hit floor of benchmarks/emulator.py (the edge's hit response from memory).

    .venv/bin/python benchmarks/emulator_instructions.py [--requests 300] [--baseline OLD_SRC]
        [--only WORDS ...]

Unlike throughput or CPU time, an instruction count hardly moves when other jobs share the
cores, so a change of a few per cent shows on a busy machine too. It counts user-space
instructions of the server process only: not the kernel's work for its system calls, not the
function's worker processes (callgrind does not follow them), and not the cost of cache misses.
Each server runs under callgrind (about 50 times slower: a run takes minutes); counting starts
after a warm-up (callgrind_control -z) and ends with a dump after the measured requests.
Needs valgrind (Debian package `valgrind`); nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

import machine
from emulator import _SERVE, BARE_PROXY, HIT_FLOOR, ORIGIN, hit_response, start

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.emulator.helpers import free_port, wait_for_port  # noqa: E402


async def drive(url: str, requests: int, hits: bool, concurrency: int = 4) -> None:
    """``requests`` GETs, ``concurrency`` at a time: of distinct paths (every one a miss), or
    with ``hits`` of one path (after the first, every one a cache hit)."""
    paths = iter(range(requests))
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            for i in paths:
                path = "/page" if hits else f"/miss-{i}"
                async with session.get(url + path) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{path}: {response.status}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def count(args: list[str], cwd: Path, requests: int, src: Path | None, hits: bool) -> int:
    """Instructions per request of one server started with ``args`` under callgrind."""
    port = free_port()
    out = cwd / f"callgrind.{port}"
    env = dict(os.environ, PYTHONPATH=str(src)) if src is not None else dict(os.environ)
    valgrind = ["valgrind", "--tool=callgrind", "--dump-instr=no"]
    command = [*valgrind, f"--callgrind-out-file={out}", sys.executable]
    command += [a.replace("{port}", str(port)) for a in args]
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, proc, 300.0)  # start-up under valgrind takes a while
        url = f"http://127.0.0.1:{port}"
        asyncio.run(drive(url, 50, hits))  # warm-up: connections, the worker's cold start
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        asyncio.run(drive(url, requests, hits))
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
    finally:
        proc.terminate()
        proc.wait(120)
    dumps = sorted(cwd.glob(f"callgrind.{port}.*"))  # the explicit dump: out.1
    for line in dumps[0].read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1]) // requests
    raise RuntimeError(f"no totals in {dumps[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--baseline", type=Path, help="another edgeshield src/ directory")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="WORDS",
        help="run only the cases whose name contains WORDS (repeatable; the reference cases, "
        "the proxy, the origin and the hit floor, always run)",
    )
    options = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        origin, origin_port = start(["-c", ORIGIN, "{port}"], cwd)
        origin_url = f"http://127.0.0.1:{origin_port}"
        try:
            edge = [*_SERVE, "--origin", origin_url]
            # The hit floor serves the edge's own hit response (see benchmarks/emulator.py),
            # taken from an edge run normally (not under callgrind).
            answer = cwd / "hit.json"
            plain, plain_port = start(edge, cwd)
            try:
                hit = asyncio.run(hit_response(f"http://127.0.0.1:{plain_port}"))
            finally:
                plain.terminate()
                plain.wait(15)
            answer.write_text(json.dumps(hit))
            # (name, server's arguments, edgeshield's src or None, hits): the first two are
            # what misses and hits are held against.
            cases: list[tuple[str, list[str], Path | None, bool]] = [
                (_PROXY, ["-c", BARE_PROXY, "{port}", origin_url], None, False),
                (_ORIGIN, ["-c", ORIGIN, "{port}"], None, True),
                (_HIT_FLOOR, ["-c", HIT_FLOOR, "{port}", str(answer)], None, True),
            ]
            miss = [*edge, "--no-cache"]
            # The same policy carried by a response headers policy: no function, no worker.
            rhp = [*miss, "--mechanism", "response-headers-policy"]
            sources: list[tuple[str, Path | None]] = [("edge", None)]
            if options.baseline is not None:
                sources.append(("baseline edge", options.baseline.resolve()))
            for label, src in sources:
                cases.append((f"{label}, cache off (miss)", miss, src, False))
                cases.append((f"{label}, response headers policy, cache off (miss)", rhp, src, False))  # fmt: skip
                cases.append((f"{label}, cache on (hit)", edge, src, True))
                cases.append((f"{label}, response headers policy, cache on (hit)", [*edge, *rhp[-2:]], src, True))  # fmt: skip
            cases = [
                case
                for case in cases
                if case[0] in (_PROXY, _ORIGIN, _HIT_FLOOR)
                or not options.only
                or any(words in case[0] for words in options.only)
            ]
            figures = {
                (name, hits): count(args, cwd, options.requests, src, hits)
                for name, args, src, hits in cases
            }
        finally:
            origin.terminate()
            origin.wait(15)
    print(f"{options.requests} requests per case after 50 to warm up; {machine.describe()}; "
          f"{machine.utc_now()}")  # fmt: skip
    print("| case | instructions per request | vs bare proxy (misses) or origin (hits) |")
    print("|---|---|---|")
    for (name, hits), figure in figures.items():
        against = figures[(_ORIGIN, True)] if hits else figures[(_PROXY, False)]
        print(f"| {name} | {figure:,} | {figure / against:.2f}× |")


_PROXY = "bare aiohttp reverse proxy"
_ORIGIN = "the origin itself (an aiohttp application)"
_HIT_FLOOR = "the edge's hit response from memory, same server stack (hit floor)"


if __name__ == "__main__":
    main()
