"""Benchmark of ``edgeshield serve``: requests/s and p50/p99 latency through the local edge
(strict policy at origin-response; cache off, then cache hits) against the same origin
directly and against a bare aiohttp reverse proxy in front of it (the floor for any Python
proxy: no function, no cache, no logging), with the same client in the same run. Cases are
interleaved in rounds, so a burst of load from elsewhere hits every case alike; the ratios are
medians of per-round ratios. Bounded: a fixed number of requests per case and round.

    .venv/bin/python benchmarks/emulator.py [--requests 1500] [--rounds 3] [--concurrency 16]

Everything runs on 127.0.0.1: the origin (aiohttp, one process), the proxy, the edge (one
process plus its function workers) and this client share the machine's cores, so the figures
are relative.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

import machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the process helpers live with the emulator's tests
from tests.emulator.helpers import free_port, wait_for_port  # noqa: E402

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

# The floor: an aiohttp server that forwards each GET to the origin with one pooled client
# session and returns status, end-to-end headers and body. What every Python proxy must do.
BARE_PROXY = r"""
import sys
import aiohttp
from aiohttp import web
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
       "proxy-authenticate", "proxy-authorization", "te", "trailer", "upgrade"}
ORIGIN = sys.argv[2]
async def start(app):
    app["client"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                          auto_decompress=False)
async def stop(app):
    await app["client"].close()
async def handle(request):
    async with request.app["client"].get(ORIGIN + request.path_qs) as r:
        body = await r.read()
        headers = [(k, v) for k, v in r.headers.items() if k.lower() not in HOP]
        resp = web.Response(status=r.status, body=body)
        for k, v in headers:
            resp.headers.add(k, v)
        return resp
app = web.Application()
app.on_startup.append(start)
app.on_cleanup.append(stop)
app.router.add_get("/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, *[a.replace("{port}", str(port)) for a in args]],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc, 20.0)
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


def _median_ratio(pairs: list[tuple[float, float]]) -> float:
    return statistics.median(a / b for a, b in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="per case and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    cli = ["-c", "from edgeshield.cli import main; main()", "serve", "--port", "{port}", "--quiet"]
    c = options.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        origin, origin_port = start(["-c", ORIGIN, "{port}"], cwd)
        origin_url = f"http://127.0.0.1:{origin_port}"
        procs = [origin]
        try:
            proxy, proxy_port = start(["-c", BARE_PROXY, "{port}", origin_url], cwd)
            procs.append(proxy)
            edge_nocache, nocache_port = start([*cli, "--origin", origin_url, "--no-cache"], cwd)
            procs.append(edge_nocache)
            edge_cache, cache_port = start([*cli, "--origin", origin_url], cwd)
            procs.append(edge_cache)
            cases = [
                ("origin directly", origin_url, False),
                ("bare aiohttp reverse proxy", f"http://127.0.0.1:{proxy_port}", False),
                (
                    "edge, cache off (miss: origin + function)",
                    f"http://127.0.0.1:{nocache_port}",
                    False,
                ),
                ("edge, cache on (hits)", f"http://127.0.0.1:{cache_port}", True),
            ]
            runs: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {
                name: [] for name, _u, _s in cases
            }
            for _ in range(options.rounds):
                for name, url, same in cases:
                    one = asyncio.run(measure(url, options.requests, 1, same))
                    many = asyncio.run(measure(url, options.requests, c, same))
                    runs[name].append((one, many))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(15)

    def med(name: str, level: int, key: str) -> float:
        return statistics.median(r[level][key] for r in runs[name])

    direct, proxy_name, miss, hit = (case[0] for case in cases)
    print(
        f"{options.requests} requests per case and round, {options.rounds} rounds (medians); "
        f"{machine.describe()}; load average {os.getloadavg()[0]:.1f}; {machine.utc_now()}"
    )
    print(
        f"| case | c=1 req/s | c=1 p50 ms | c=1 p99 ms | c={c} req/s | c={c} p50 ms | c={c} p99 ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, _u, _s in cases:
        print(
            f"| {name} | {med(name, 0, 'rps'):,.0f} | {med(name, 0, 'p50'):.2f} "
            f"| {med(name, 0, 'p99'):.2f} | {med(name, 1, 'rps'):,.0f} "
            f"| {med(name, 1, 'p50'):.2f} | {med(name, 1, 'p99'):.2f} |"
        )
    rounds = range(options.rounds)

    def ratio(a: str, b: str, level: int) -> float:
        return _median_ratio([(runs[a][i][level]["rps"], runs[b][i][level]["rps"]) for i in rounds])

    added = statistics.median(runs[miss][i][0]["p50"] - runs[direct][i][0]["p50"] for i in rounds)
    print()
    print("| figure | measured | target |")
    print("|---|---|---|")
    print(
        f"| miss throughput vs bare aiohttp proxy (c={c}) | **{ratio(miss, proxy_name, 1):.2f}×** | ≥ 0.5× (goal 0.8×) |"
    )
    print(f"| miss throughput vs bare aiohttp proxy (c=1) | {ratio(miss, proxy_name, 0):.2f}× | |")
    print(f"| bare proxy throughput vs origin (c={c}) | {ratio(proxy_name, direct, 1):.2f}× | |")
    print(f"| hit throughput vs origin (c={c}) | **{ratio(hit, direct, 1):.2f}×** | ≥ 1.0× |")
    print(f"| added p50 of a miss over the origin (c=1) | **{added:.2f} ms** | ≤ 1 ms |")
    print(f"| hit p50 vs origin p50 (c=1) | {med(hit, 0, 'p50'):.2f} vs {med(direct, 0, 'p50'):.2f} ms | |")  # fmt: skip


if __name__ == "__main__":
    main()
