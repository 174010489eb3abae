"""Benchmark of ``edgeshield serve``: requests/s and p50/p99 latency through the local edge
(strict policy at origin-response; cache off, then cache hits) against the same origin
directly, with the same client in the same run. Bounded: a fixed number of requests per case.

    .venv/bin/python benchmarks/emulator.py [--requests 3000] [--concurrency 16]

Everything runs on 127.0.0.1: the origin (aiohttp, one process), the edge (one process plus
its function worker) and this client share the machine's cores, so the figures are relative.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ORIGIN = r"""
import sys
from aiohttp import web
PAGE = b"<!doctype html><title>bench</title>" + b"<p>lorem ipsum dolor sit amet</p>" * 60
async def handle(request):
    return web.Response(body=PAGE, content_type="text/html",
                        headers={"Cache-Control": "max-age=3600", "Server": "bench-origin"})
app = web.Application()
app.router.add_get("/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


def start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, *[a.replace("{port}", str(port)) for a in args]],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc, port


async def measure(url: str, requests: int, concurrency: int, same_path: bool) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm up at the measured concurrency: connections, every worker's cold start, and
        # (for hits) the cache, so that the run measures the steady state.
        warm = iter(range(max(200, 20 * concurrency)))

        async def warm_up() -> None:
            for i in warm:
                async with session.get(f"{url}/page" if same_path else f"{url}/warm-{i}") as r:
                    await r.read()

        await asyncio.gather(*(warm_up() for _ in range(concurrency)))

        async def worker() -> None:
            for i in counter:
                path = "/page" if same_path else f"/miss-{i}"
                began = time.perf_counter()
                async with session.get(url + path) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{path}: {response.status}")
                latencies.append((time.perf_counter() - began) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": requests / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    cli = ["-c", "from edgeshield.cli import main; main()", "serve", "--port", "{port}", "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        origin, origin_port = start(["-c", ORIGIN, "{port}"], cwd)
        origin_url = f"http://127.0.0.1:{origin_port}"
        procs = [origin]
        try:
            edge_nocache, nocache_port = start([*cli, "--origin", origin_url, "--no-cache"], cwd)
            procs.append(edge_nocache)
            edge_cache, cache_port = start([*cli, "--origin", origin_url], cwd)
            procs.append(edge_cache)
            cases = [
                ("origin directly", f"http://127.0.0.1:{origin_port}", False),
                (
                    "edge, cache off (miss: origin + function)",
                    f"http://127.0.0.1:{nocache_port}",
                    False,
                ),
                ("edge, cache on (hits)", f"http://127.0.0.1:{cache_port}", True),
            ]
            print(
                f"{options.requests} requests per case; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
            )
            c = options.concurrency
            print(
                f"| case | c=1 req/s | c=1 p50 ms | c=1 p99 ms | c={c} req/s | c={c} p50 ms "
                f"| c={c} p99 ms |"
            )
            print("|---|---|---|---|---|---|---|")
            results = {}
            for name, url, same in cases:
                one = asyncio.run(measure(url, options.requests, 1, same))
                many = asyncio.run(measure(url, options.requests, options.concurrency, same))
                results[name] = (one, many)
                print(
                    f"| {name} | {one['rps']:,.0f} | {one['p50']:.2f} | {one['p99']:.2f} "
                    f"| {many['rps']:,.0f} | {many['p50']:.2f} | {many['p99']:.2f} |"
                )
            direct, miss, hit = (results[c[0]] for c in cases)
            print()
            print(f"added p50 on a miss (c=1): {miss[0]['p50'] - direct[0]['p50']:.2f} ms")
            print(
                f"miss throughput vs origin (c={options.concurrency}): {miss[1]['rps'] / direct[1]['rps']:.2f}x"
            )
            print(
                f"hit p50 vs origin p50 (c=1): {hit[0]['p50']:.2f} ms vs {direct[0]['p50']:.2f} ms"
            )
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(15)


if __name__ == "__main__":
    main()
