"""Benchmark of ``edgeshield serve``: requests/s and p50/p99 latency through the local edge
(strict policy at origin-response; cache off, then cache hits) against the same origin
directly and against a bare aiohttp reverse proxy in front of it (the floor for any Python
proxy: no function, no cache, no logging), and against that proxy plus one round trip per
request to a worker process (the floor for any proxy that runs its function out of process, as
the edge does), and hits against the edge's own hit response served from memory on the same
server stack (the floor for a hit), with the same client in the same run. Cases are
interleaved in rounds (every other round in reverse order), each measured over the same
window of time, so a burst of load from elsewhere hits every case alike; the ratios are
medians of per-round ratios. Bounded: a window of time, and at most a number of requests,
per case, level and round.

    .venv/bin/python benchmarks/emulator.py [--seconds 2] [--rounds 5] [--concurrency 16]
        [--requests 50000] [--baseline OLD_SRC_DIR] [--function TRIGGER=MODULE.HANDLER ...]

``--function`` adds a case per function: the edge running that function (from
``--function-dir``, default ``benchmarks/functions``) instead of the built-in one, e.g.
``origin-response=header_setter.handler`` or ``origin-request=index_rewriter.handler``.

It also reports the CPU time each server process spends per request (from /proc), which
unlike throughput stays meaningful when other jobs share the cores.

Everything runs on 127.0.0.1: the origin (aiohttp, one process), the proxy, the edge (one
process plus its function workers) and this client share the machine's cores, so the figures
are relative.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
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

# What both proxies below share: the origin's address, the headers not passed on, one pooled
# client session, and the app around a `handle` each defines (plus its own start and stop).
_PROXY_HEAD = r"""
import asyncio, json, sys
import aiohttp
from aiohttp import web
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
       "proxy-authenticate", "proxy-authorization", "te", "trailer", "upgrade"}
ORIGIN = sys.argv[2]
async def start_client(app):
    app["client"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                          auto_decompress=False)
async def stop_client(app):
    await app["client"].close()
"""
_PROXY_TAIL = r"""
app = web.Application()
app.on_startup.extend(STARTUP)
app.on_cleanup.extend(CLEANUP)
app.router.add_get("/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

# The floor: an aiohttp server that forwards each GET to the origin with one pooled client
# session and returns status, end-to-end headers and body. What every Python proxy must do.
BARE_PROXY = (
    _PROXY_HEAD
    + r"""
async def handle(request):
    async with request.app["client"].get(ORIGIN + request.path_qs) as r:
        body = await r.read()
        headers = [(k, v) for k, v in r.headers.items() if k.lower() not in HOP]
        resp = web.Response(status=r.status, body=body)
        for k, v in headers:
            resp.headers.add(k, v)
        return resp
STARTUP, CLEANUP = [start_client], [stop_client]
"""
    + _PROXY_TAIL
)

# The floor for a proxy that runs its function in another process, as the edge does: the bare
# proxy, plus one round trip per request to a worker (a pool of four) that decodes the
# response's status and headers from a JSON line and echoes them back, which the proxy then
# serves. No policy, no validation, no logs: only the hop.
HOP_PROXY = (
    _PROXY_HEAD
    + r"""
ECHO = ("import json, sys\n"
        "for line in sys.stdin.buffer:\n"
        "    sys.stdout.buffer.write(json.dumps(json.loads(line)).encode() + b'\\n')\n"
        "    sys.stdout.buffer.flush()\n")
async def start_workers(app):
    app["free"] = asyncio.Queue()
    for _ in range(4):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", ECHO, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        app["free"].put_nowait(proc)
async def stop_workers(app):
    while not app["free"].empty():
        app["free"].get_nowait().kill()
async def handle(request):
    async with request.app["client"].get(ORIGIN + request.path_qs) as r:
        body = await r.read()
        headers = [(k, v) for k, v in r.headers.items() if k.lower() not in HOP]
    worker = await request.app["free"].get()
    try:
        worker.stdin.write(json.dumps({"status": r.status, "headers": headers}).encode() + b"\n")
        reply = json.loads(await worker.stdout.readline())
    finally:
        request.app["free"].put_nowait(worker)
    resp = web.Response(status=reply["status"], body=body)
    for k, v in reply["headers"]:
        resp.headers.add(k, v)
    return resp
STARTUP, CLEANUP = [start_client, start_workers], [stop_client, stop_workers]
"""
    + _PROXY_TAIL
)


# The floor for a cache hit on the edge's own stack: the server `serve` runs (GuardedServer, with
# EdgeServer's limits, on uvloop) answering every request from memory with the edge's hit
# response, header for header (taken from the edge at the start of the run, passed as a JSON
# file). No cache lookup, no stats: what any hit served through this stack costs, whatever
# the edge does around it. The origin above is aiohttp's application layer on asyncio's loop.
HIT_FLOOR = r"""
import asyncio, json, sys
import uvloop
from aiohttp import web
from edgeshield.cloudfront.rules import MAX_REQUEST_HEADER_BYTES, MAX_URL_BYTES
from edgeshield.emulator.http.guard import GuardedServer
from edgeshield.emulator.http.server import HEADER_TIMEOUT
status, headers, body = json.load(open(sys.argv[2]))
BODY = body.encode("latin-1")
async def handle(request):
    return web.Response(status=status, headers=headers, body=BODY)
async def main():
    server = GuardedServer(
        handle, on_bad_request=lambda request, exc: web.Response(status=400),
        max_line_size=MAX_URL_BYTES * 4, max_field_size=MAX_REQUEST_HEADER_BYTES * 2,
        max_headers=512, handler_cancellation=False, keepalive_timeout=HEADER_TIMEOUT)
    runner = web.ServerRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[1]), backlog=512).start()
    await asyncio.Event().wait()
uvloop.run(main())
"""


def start(
    args: list[str], cwd: Path, src: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server on a free port; with ``src``, edgeshield is imported from there."""
    port = free_port()
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    proc = subprocess.Popen(
        [sys.executable, *[a.replace("{port}", str(port)) for a in args]],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc, 20.0)
    return proc, port


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) of a server process itself, and of its children: the live ones
    (the edge's function workers) plus those already reaped. (0, 0) where /proc is missing."""

    def stat(p: int) -> list[str]:
        text = Path(f"/proc/{p}/stat").read_text()
        return text[text.rindex(")") + 2 :].split()  # fields from the 3rd on

    try:
        fields = stat(pid)
    except OSError:
        return 0.0, 0.0
    own = (int(fields[11]) + int(fields[12])) / _TICK
    children = (int(fields[13]) + int(fields[14])) / _TICK
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        kids = []
    for kid in kids:
        try:
            f = stat(int(kid))
        except OSError:
            continue
        children += (int(f[11]) + int(f[12])) / _TICK
    return own, children


async def measure(
    url: str,
    seconds: float,
    limit: int,
    concurrency: int,
    same_path: bool,
    pid: int | None = None,
) -> dict[str, float]:
    """Throughput and latency of one case over a window of ``seconds`` (at most ``limit``
    requests); with ``pid``, also the CPU time the server process (and, separately, its
    children) spent per request during the window. Every case gets the same time, not the same
    count: a burst of load from elsewhere (this VM's host takes CPU time at moments) then
    weighs on each case alike, where a fixed count gave fast cases windows too short to
    average it out."""
    latencies: list[float] = []
    counter = iter(range(limit))
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
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            for i in counter:
                path = "/page" if same_path else f"/miss-{i}"
                began = time.perf_counter()
                async with session.get(url + path) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{path}: {response.status}")
                done = time.perf_counter()
                latencies.append((done - began) * 1000)
                if done >= deadline:
                    return

        cpu_before = cpu_seconds(pid) if pid else (0.0, 0.0)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(pid) if pid else (0.0, 0.0)
    count = len(latencies)
    latencies.sort()
    return {
        "requests": count,
        "rps": count / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(count * 0.99) - 1],
        "cpu_us": (cpu_after[0] - cpu_before[0]) / count * 1e6,
        "child_cpu_us": (cpu_after[1] - cpu_before[1]) / count * 1e6,
    }


async def hit_response(url: str) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers (less framing, which aiohttp redoes) and body of a cache hit at ``url``."""
    framing = {"content-length", "transfer-encoding", "connection", "keep-alive"}
    async with aiohttp.ClientSession() as session:
        for _ in range(2):  # the first fills the cache
            async with session.get(f"{url}/page") as response:
                body = await response.read()
    if response.headers.get("X-Cache") != "Hit from cloudfront":
        raise RuntimeError(f"{url}/page is not a cache hit the second time")
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in framing]
    return response.status, headers, body.decode("latin-1")


def _median_ratio(pairs: list[tuple[float, float]]) -> float:
    return statistics.median(a / b for a, b in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="measured window per case, level and round"
    )
    parser.add_argument(
        "--requests", type=int, default=50_000, help="at most this many requests per window"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another edgeshield src/ directory (e.g. from `git archive`): its edge runs as two "
        "more cases in the same rounds, for a same-run before/after",
    )
    parser.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="TRIGGER=MODULE.HANDLER",
        help="also measure misses through the edge running this function instead of the "
        "built-in one (repeatable: one case each); modules are imported from --function-dir",
    )
    parser.add_argument(
        "--function-dir",
        type=Path,
        default=Path(__file__).resolve().parent / "functions",
        help="where --function modules live (default: benchmarks/functions)",
    )
    options = parser.parse_args()
    c = options.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        origin, origin_port = start(["-c", ORIGIN, "{port}"], cwd)
        origin_url = f"http://127.0.0.1:{origin_port}"
        procs = [origin]
        try:
            proxy, proxy_port = start(["-c", BARE_PROXY, "{port}", origin_url], cwd)
            procs.append(proxy)
            hop, hop_port = start(["-c", HOP_PROXY, "{port}", origin_url], cwd)
            procs.append(hop)
            cases: list[tuple[str, str, bool, int | None]] = [
                ("origin directly", origin_url, False, origin.pid),
                ("bare aiohttp reverse proxy", f"http://127.0.0.1:{proxy_port}", False, proxy.pid),
                (_HOP_CASE, f"http://127.0.0.1:{hop_port}", False, hop.pid),
            ]
            sources: list[tuple[str, Path | None]] = [("edge", None)]
            if options.baseline is not None:
                sources.append(("baseline edge", options.baseline.resolve()))
            for label, src in sources:
                for cache in (False, True):
                    flags = ["--origin", origin_url] + ([] if cache else ["--no-cache"])
                    edge, port = start([*_SERVE, *flags], cwd, src)
                    procs.append(edge)
                    kind = _HITS if cache else _MISSES
                    cases.append((f"{label}, {kind}", f"http://127.0.0.1:{port}", cache, edge.pid))
            # The hit floor answers with the response the edge's cache-on case gives a hit.
            hits_url = next(url for name, url, *_ in cases if name == _EDGE_HITS)
            answer = cwd / "hit.json"
            answer.write_text(json.dumps(asyncio.run(hit_response(hits_url))))
            floor, floor_port = start(["-c", HIT_FLOOR, "{port}", str(answer)], cwd)
            procs.append(floor)
            cases.insert(5, (_HIT_FLOOR_CASE, f"http://127.0.0.1:{floor_port}", True, floor.pid))
            if options.function:  # a copy: serve keeps its state beside the functions
                functions = cwd / "functions"
                shutil.copytree(options.function_dir, functions)
            for function in options.function:
                flags = ["--origin", origin_url, "--no-cache", "--function", function]
                edge, port = start([*_SERVE, *flags], functions)
                procs.append(edge)
                cases.append((f"edge, {function}, cache off (miss)", f"http://127.0.0.1:{port}", False, edge.pid))  # fmt: skip
            runs: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {
                case[0]: [] for case in cases
            }
            window = options.seconds, options.requests
            for round_ in range(options.rounds):
                # Every other round in reverse order, so no case always follows the same one.
                for name, url, same, pid in cases if round_ % 2 == 0 else cases[::-1]:
                    one = asyncio.run(measure(url, *window, 1, same, pid))
                    many = asyncio.run(measure(url, *window, c, same, pid))
                    runs[name].append((one, many))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(15)
    report(runs, [case[0] for case in cases], options)


_HOP_CASE = "bare proxy + a worker hop (floor)"
_HITS, _MISSES = "cache on (hits)", "cache off (miss: origin + function)"
_EDGE_HITS = f"edge, {_HITS}"
_HIT_FLOOR_CASE = "the edge's hit response from memory, same server stack (hit floor)"
_SERVE = ["-c", "from edgeshield.cli import main; main()", "serve", "--port", "{port}", "--quiet"]


def report(
    runs: dict[str, list[tuple[dict[str, float], dict[str, float]]]],
    names: list[str],
    options: argparse.Namespace,
) -> None:
    c = options.concurrency

    def med(name: str, level: int, key: str) -> float:
        return statistics.median(r[level][key] for r in runs[name])

    direct, proxy_name, hop_name, miss, hit, hit_floor = names[:6]
    print(
        f"{options.seconds:g} s per case, level and round, {options.rounds} rounds (medians); "
        f"{machine.describe()}; load average {os.getloadavg()[0]:.1f}; {machine.utc_now()}"
    )
    print(
        f"| case | c=1 req/s | c=1 p50 ms | c=1 p99 ms | c={c} req/s | c={c} p50 ms | c={c} p99 ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        print(
            f"| {name} | {med(name, 0, 'rps'):,.0f} | {med(name, 0, 'p50'):.2f} "
            f"| {med(name, 0, 'p99'):.2f} | {med(name, 1, 'rps'):,.0f} "
            f"| {med(name, 1, 'p50'):.2f} | {med(name, 1, 'p99'):.2f} |"
        )
    capped = sorted({n for n in names for r in runs[n] for m in r if m["requests"] >= options.requests})  # fmt: skip
    if capped:
        print(f"(cut short by --requests {options.requests} before {options.seconds:g} s: {', '.join(capped)})")  # fmt: skip
    print()
    print(f"CPU per request at c={c} (server process; its function workers apart), µs:")
    print("| case | server process | its workers |")
    print("|---|---|---|")
    for name in names:
        print(f"| {name} | {med(name, 1, 'cpu_us'):,.0f} | {med(name, 1, 'child_cpu_us'):,.0f} |")
    rounds = range(options.rounds)

    def ratio(a: str, b: str, level: int, key: str = "rps") -> float:
        return _median_ratio([(runs[a][i][level][key], runs[b][i][level][key]) for i in rounds])

    def added(name: str) -> float:
        return statistics.median(
            runs[name][i][0]["p50"] - runs[direct][i][0]["p50"] for i in rounds
        )

    print()
    print("| figure | measured | target |")
    print("|---|---|---|")
    print(f"| miss throughput vs bare aiohttp proxy (c={c}) | **{ratio(miss, proxy_name, 1):.2f}×** | ≥ 0.5× (goal 0.8×) |")  # fmt: skip
    print(f"| miss throughput vs bare aiohttp proxy (c=1) | {ratio(miss, proxy_name, 0):.2f}× | |")
    print(f"| edge CPU per miss vs bare proxy CPU per request (c={c}) | {ratio(miss, proxy_name, 1, 'cpu_us'):.2f}× | |")  # fmt: skip
    print(f"| bare proxy throughput vs origin (c={c}) | {ratio(proxy_name, direct, 1):.2f}× | |")
    print(f"| hit throughput vs origin (c={c}) | **{ratio(hit, direct, 1):.2f}×** | ≥ 1.0× |")
    print(f"| added p50 of a miss over the origin (c=1) | **{added(miss):.2f} ms** | ≤ 1 ms |")
    print(f"| added p50 of the floor (bare proxy + a worker hop) over the origin (c=1) | {added(hop_name):.2f} ms | |")  # fmt: skip
    print(f"| miss throughput vs the floor with a worker hop (c={c}) | {ratio(miss, hop_name, 1):.2f}× | |")  # fmt: skip
    print(f"| hit floor (the edge's hit response from memory) vs origin (c={c}) | {ratio(hit_floor, direct, 1):.2f}× | |")  # fmt: skip
    print(f"| hit throughput vs the hit floor (c={c}) | {ratio(hit, hit_floor, 1):.2f}× | |")  # fmt: skip
    print(f"| hit p50 vs origin p50 (c=1) | {med(hit, 0, 'p50'):.2f} vs {med(direct, 0, 'p50'):.2f} ms | |")  # fmt: skip
    extra = names[6:]
    if options.baseline is not None:
        base_miss, base_hit = names[6:8]
        extra = names[8:]
        print(f"| baseline: miss throughput vs bare proxy (c={c}) | {ratio(base_miss, proxy_name, 1):.2f}× | |")  # fmt: skip
        print(f"| baseline: hit throughput vs origin (c={c}) | {ratio(base_hit, direct, 1):.2f}× | |")  # fmt: skip
        print(f"| baseline: added p50 of a miss (c=1) | {added(base_miss):.2f} ms | |")
        print(f"| miss throughput, edge vs baseline edge (c={c}) | {ratio(miss, base_miss, 1):.2f}× | |")  # fmt: skip
        print(f"| CPU per miss (server process), edge vs baseline edge | {ratio(miss, base_miss, 1, 'cpu_us'):.2f}× | |")  # fmt: skip
    for name in extra:  # --function cases: other people's functions
        print(f"| {name}: throughput vs bare proxy (c={c}) | {ratio(name, proxy_name, 1):.2f}× | ≥ 0.5× |")  # fmt: skip
        print(f"| {name}: added p50 over the origin (c=1) | {added(name):.2f} ms | ≤ 1 ms |")  # fmt: skip


if __name__ == "__main__":
    main()
