"""Instructions per request of the server process, counted by valgrind's callgrind: the edge
on misses (`serve --no-cache`, strict policy at origin-response; and the same policy as a
response headers policy, `--mechanism response-headers-policy`) against the bare aiohttp
reverse proxy of benchmarks/emulator.py, in front of the same origin.

    .venv/bin/python benchmarks/emulator_instructions.py [--requests 300] [--baseline OLD_SRC]

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
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

import machine
from emulator import _SERVE, BARE_PROXY, ORIGIN, start

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.emulator.helpers import free_port, wait_for_port  # noqa: E402


async def drive(url: str, requests: int, concurrency: int = 4) -> None:
    """``requests`` GETs of distinct paths (every one a miss), ``concurrency`` at a time."""
    paths = iter(range(requests))
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            for i in paths:
                async with session.get(f"{url}/miss-{i}") as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"/miss-{i}: {response.status}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def count(args: list[str], cwd: Path, requests: int, src: Path | None) -> int:
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
        asyncio.run(drive(url, 50))  # warm-up: connections, the worker's cold start
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        asyncio.run(drive(url, requests))
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
    options = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        origin, origin_port = start(["-c", ORIGIN, "{port}"], cwd)
        origin_url = f"http://127.0.0.1:{origin_port}"
        try:
            cases = [("bare aiohttp reverse proxy", ["-c", BARE_PROXY, "{port}", origin_url], None)]
            edge = [*_SERVE, "--origin", origin_url, "--no-cache"]
            # The same policy carried by a response headers policy: no function, no worker.
            rhp = [*edge, "--mechanism", "response-headers-policy"]
            cases.append(("edge, cache off (miss)", edge, None))
            cases.append(("edge, response headers policy, cache off (miss)", rhp, None))
            if options.baseline is not None:
                base = options.baseline.resolve()
                cases.append(("baseline edge, cache off (miss)", edge, base))
                cases.append(("baseline edge, response headers policy (miss)", rhp, base))
            figures = {name: count(args, cwd, options.requests, src) for name, args, src in cases}
        finally:
            origin.terminate()
            origin.wait(15)
    print(f"{options.requests} requests per case after 50 to warm up; {machine.describe()}; "
          f"{machine.utc_now()}")  # fmt: skip
    proxy = figures["bare aiohttp reverse proxy"]
    print("| case | instructions per request | vs bare proxy |\n|---|---|---|")
    for name, figure in figures.items():
        print(f"| {name} | {figure:,} | {figure / proxy:.2f}× |")


if __name__ == "__main__":
    main()
