"""Soak test of ``edgeshield serve``: bounded load at several concurrencies, cache on and off,
while function workers are killed and hostile reports and malformed requests arrive.

    .venv/bin/python benchmarks/soak.py [--rounds 3] [--requests 2000] [--seconds 8]
                                        [--concurrency 1,16,64,256] [--kill-every 1.0]

Each round sends, at each concurrency, at most ``--requests`` requests and for at most
``--seconds`` seconds (count and time bounded) to a local edge in front of a small aiohttp
origin, with edgeshield's own function (strict policy) at origin-response. During the load a
random worker process of the edge (a function worker or the collector's) is killed with
SIGKILL every ``--kill-every`` seconds, and each cell also posts hostile CSP reports (lone
surrogate, rich markup, escape sequences, malformed JSON) and malformed raw HTTP requests.

Per cell it prints the requests answered, the errors (anything but the expected status,
including no answer at all), how many requests met a killed worker (503
``LambdaExecutionError``: the request that was running when its worker died), p50/p99 latency,
the RSS of every process (edge, its workers, origin) and the edge's open descriptors. The goal:
0 errors besides the killed requests, every request answered, and no growth across rounds. At
the end it counts tracebacks on the edge's stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from emulator import ORIGIN  # the throughput benchmark's small aiohttp origin
from emulator import start as start_python

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the process helpers live with the emulator's tests
from tests.emulator.helpers import children, free_port, wait_for_port  # noqa: E402

from edgeshield.report_route import REPORT_PATH  # noqa: E402

REPORTS: list[bytes] = [
    b'{"csp-report":{"blocked-uri":"\\udfff","effective-directive":"img-src"}}',
    b'{"csp-report":{"blocked-uri":"https://e.example/a[/]b","document-uri":'
    b'"https://d.example/[link=https://evil.example]x[/link]","effective-directive":"img-src"}}',
    b'{"csp-report":{"blocked-uri":"https://e.example/\\u001b]8;;https://evil\\u001b\\\\x'
    b'\\u001b[2J\\u202e","effective-directive":"script-src"}}',
    b'{"csp-report":{"blocked-uri":"https://cdn.example/ok.js","effective-directive":"script-src"}}',
]
BAD_REPORTS: list[bytes] = [b"{broken", b'{"csp-report": 5}', b"[" * 5000]
MALFORMED: list[tuple[bytes, int]] = [
    (b"GET / HTTP/9.9\r\nHost: a\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 403),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 50_000 + b"\r\n\r\n", 413),
]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def open_fds(pid: int) -> tuple[int, int, int]:
    """(sockets, pipes, files and others) open in ``pid``."""
    sockets = pipes = other = 0
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = str(fd.readlink())
            except OSError:
                continue
            if target.startswith("socket:"):
                sockets += 1
            elif target.startswith("pipe:"):
                pipes += 1
            else:
                other += 1
    except OSError:
        pass
    return sockets, pipes, other


@dataclass
class Cell:
    answered: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    killed: int = 0
    latencies: list[float] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def load(
    session: aiohttp.ClientSession,
    url: str,
    cell: Cell,
    requests: int,
    seconds: float,
    concurrency: int,
    paths: int,
) -> None:
    deadline = time.monotonic() + seconds
    counter = iter(range(requests))

    async def one_client() -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            try:
                async with session.get(f"{url}/p/{i % paths}") as response:
                    await response.read()
                    status, x_cache = response.status, response.headers.get("X-Cache", "")
            except Exception as exc:  # no answer at all: the worst outcome
                cell.error(f"no answer ({type(exc).__name__})")
                continue
            cell.latencies.append((time.perf_counter() - started) * 1000)
            cell.answered += 1
            if status == 200:
                continue
            if status == 503 and x_cache.startswith("LambdaExecutionError"):
                cell.killed += 1  # the invocation whose worker was killed under it
            else:
                cell.error(f"{status} {x_cache}")

    await asyncio.gather(*(one_client() for _ in range(concurrency)))


async def hostile(session: aiohttp.ClientSession, url: str, port: int, cell: Cell) -> None:
    headers = {"Content-Type": "application/csp-report"}
    for body in REPORTS + BAD_REPORTS:
        expected = 204 if body in REPORTS else 400
        try:
            async with session.post(url + REPORT_PATH, data=body, headers=headers) as response:
                await response.read()
                if response.status == 502:
                    # The collector's worker was killed under this report.
                    cell.killed += 1
                elif response.status != expected:
                    cell.error(f"report {response.status}")
        except Exception as exc:
            cell.error(f"report no answer ({type(exc).__name__})")
    for data, expected in MALFORMED:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(data)
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), 10)
            writer.close()
            if line.split(b" ")[1:2] != [str(expected).encode()]:
                cell.error(f"malformed got {line[:20]!r}")
        except Exception as exc:
            cell.error(f"malformed no answer ({type(exc).__name__})")


async def killer(edge_pid: int, every: float, stop: asyncio.Event, kills: list[int]) -> None:
    rng = random.Random(11)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
            return
        except TimeoutError:
            pass
        workers = [pid for pid, state in children(edge_pid) if state != "Z"]
        if workers:
            victim = rng.choice(workers)
            try:
                os.kill(victim, signal.SIGKILL)
                kills.append(victim)
            except ProcessLookupError:
                pass


def snapshot(edge_pid: int, origin_pid: int) -> tuple[str, float, tuple[int, int, int], int, int]:
    kids = children(edge_pid)
    zombies = sum(1 for _pid, state in kids if state == "Z")
    # Zombies below the workers too (children a function forked).
    zombies += sum(1 for pid, _s in kids for _c, state in children(pid) if state == "Z")
    workers = [rss_mb(pid) for pid, state in kids if state != "Z"]
    edge = rss_mb(edge_pid)
    text = (
        f"edge {edge:5.1f} MB, workers {'/'.join(f'{w:.0f}' for w in workers)} MB, "
        f"origin {rss_mb(origin_pid):.0f} MB"
    )
    return text, edge, open_fds(edge_pid), len(workers), zombies


async def soak(args: argparse.Namespace) -> int:
    levels = [int(c) for c in args.concurrency.split(",")]
    work = Path(tempfile.mkdtemp(prefix="edgeshield-soak-"))
    origin, origin_port = start_python(["-c", ORIGIN, "{port}"], work)
    tracebacks = 0
    # (cache, round, level) -> (errors, edge RSS MB, open fds, workers)
    summary: dict[tuple[bool, int, int], tuple[int, float, tuple[int, int, int], int]] = {}
    try:
        for cache in (True, False):
            port = free_port()
            stderr_path = work / f"edge-{'cache' if cache else 'nocache'}.err"
            command = [
                sys.executable, "-c", "from edgeshield.cli import main; main()", "serve",
                "--port", str(port), "--origin", f"http://127.0.0.1:{origin_port}",
                "--quiet", "--no-reload", "--workers", "4",
            ]  # fmt: skip
            if not cache:
                command.append("--no-cache")
            with stderr_path.open("wb") as err:
                edge = subprocess.Popen(command, cwd=work, stdout=subprocess.DEVNULL, stderr=err)
                wait_for_port(port, edge, 60.0)
                url = f"http://127.0.0.1:{port}"
                print(f"\n== cache {'on' if cache else 'off'} ==", flush=True)
                for round_no in range(1, args.rounds + 1):
                    for level in levels:
                        cell = Cell()
                        kills: list[int] = []
                        stop = asyncio.Event()
                        kill_task = asyncio.create_task(
                            killer(edge.pid, args.kill_every, stop, kills)
                        )
                        begun = time.monotonic()
                        # A session per cell, closed before the snapshot: the descriptors
                        # counted are the edge's own, not this client's idle connections.
                        connector = aiohttp.TCPConnector(limit=0)
                        timeout = aiohttp.ClientTimeout(total=60)
                        async with aiohttp.ClientSession(
                            connector=connector, timeout=timeout
                        ) as session:
                            await asyncio.gather(
                                load(session, url, cell, args.requests, args.seconds, level,
                                     paths=50 if cache else 10_000),
                                hostile(session, url, port, cell),
                            )  # fmt: skip
                        elapsed = time.monotonic() - begun
                        stop.set()
                        await kill_task
                        await asyncio.sleep(1.0)  # closed connections leave the edge
                        text, edge_mb, fds, workers, zombies = snapshot(edge.pid, origin.pid)
                        lat = sorted(cell.latencies) or [0.0]
                        p50 = statistics.median(lat)
                        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                        errors = sum(cell.errors.values())
                        print(
                            f"round {round_no} c={level:<3} {cell.answered:5d} answered in "
                            f"{elapsed:4.1f} s, errors {errors}"
                            f"{' ' + str(cell.errors) if cell.errors else ''}, "
                            f"killed {len(kills)} workers -> {cell.killed} requests hit, "
                            f"p50 {p50:6.2f} ms, p99 {p99:7.2f} ms, {text}, "
                            f"fds {sum(fds)} (sockets {fds[0]}, pipes {fds[1]}, files {fds[2]}), "
                            f"zombies {zombies}",
                            flush=True,
                        )
                        summary[(cache, round_no, level)] = (errors, edge_mb, fds, workers)
                # Idle connections (viewer and origin keep-alive: 5 s towards the origin, as
                # CloudFront's default) close on their own; what stays open after that is
                # what the edge holds for good.
                await asyncio.sleep(args.settle)
                text, _mb, fds, workers, zombies = snapshot(edge.pid, origin.pid)
                print(
                    f"after {args.settle:g} s idle: {text}, fds {sum(fds)} (sockets {fds[0]}, "
                    f"pipes {fds[1]}, files {fds[2]}), workers {workers}, zombies {zombies}",
                    flush=True,
                )
                edge.send_signal(signal.SIGTERM)
                edge.wait(60)
            text = stderr_path.read_text(errors="replace")
            count = text.count("Traceback")
            tracebacks += count
            print(f"edge stderr: {count} tracebacks, {len(text)} bytes")
            if text:
                print(text[:4000])
    finally:
        origin.terminate()
        origin.wait(10)
    total_errors = sum(row[0] for row in summary.values())
    print("\ngrowth, first round -> last round (edge RSS, edge open descriptors, workers):")
    for cache in (True, False):
        for level in levels:
            first, last = summary[(cache, 1, level)], summary[(cache, args.rounds, level)]
            print(
                f"  cache {'on ' if cache else 'off'} c={level:<3} RSS {first[1]:.1f} -> "
                f"{last[1]:.1f} MB, sockets/pipes/files {'/'.join(map(str, first[2]))} -> "
                f"{'/'.join(map(str, last[2]))}, workers {first[3]} -> {last[3]}"
            )
    print(f"errors besides killed requests: {total_errors}; tracebacks: {tracebacks}")
    return 1 if total_errors or tracebacks else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="per cell, at most")
    parser.add_argument("--seconds", type=float, default=8.0, help="per cell, at most")
    parser.add_argument("--concurrency", default="1,16,64,256")
    parser.add_argument("--kill-every", type=float, default=1.0)
    parser.add_argument("--settle", type=float, default=8.0, help="idle seconds at the end")
    sys.exit(asyncio.run(soak(parser.parse_args())))


if __name__ == "__main__":
    main()
