"""CPU of the edge's own pipeline per miss, without sockets or worker processes: what
edgeshield adds to a request besides aiohttp's server and client and the pipe to a worker.

    .venv/bin/python benchmarks/pipeline.py [--requests 10000] [--rounds 5] [--baseline OLD_SRC]

``Edge.handle`` in one process, on misses (cache off), with an in-memory origin that answers
as benchmarks/emulator.py's origin does (five headers, a 2 KB page) and the function at
origin-response run in the same process the way the worker runs it: the event encoded and
the result decoded as the edge does (``pipe_json``), decoded and encoded with the standard
library as Lambda's runtime does. Cases: no function (the floor: forwarding rules, the flow,
the answer), an echo handler that returns the response it is given, and the built-in strict
handler from the staged bundle. Reported per miss: CPU µs (``time.process_time``), the part
that is the edge's (the total less the time on the runtime's side), median of rounds, and the
edge's part against the floor. With ``--baseline``, the same cases run against
another ``src`` tree (``git archive <commit> src | tar -x -C /tmp/base``), each case and tree
in a fresh process, interleaved in the same rounds.

One more case times cache hits: the server's own request handler (``EdgeServer._handle``) on
aiohttp's mocked requests for a cached page, from the request as aiohttp parsed it to
aiohttp's response object (the edge's checks, the cache lookup, the answer, the counters).
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
from typing import TYPE_CHECKING, Any

import machine

if TYPE_CHECKING:  # edgeshield is imported in _child, from the src tree under test
    from edgeshield.cloudfront import Trigger
    from edgeshield.emulator.functions.runtime import Invocation

ROOT = Path(__file__).resolve().parents[1]
CASES = ("no function", "echo", "strict")
HIT = "cache hit, through the server's handler"
PAGE = b"<!doctype html><title>bench</title>" + b"<p>lorem ipsum dolor sit amet</p>" * 60
ORIGIN_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", str(len(PAGE))),
    ("Date", "Mon, 30 Nov 2026 09:00:00 GMT"),
    ("Server", "bench-origin"),
    ("Cache-Control", "max-age=3600"),
]
VIEWER_HEADERS = [
    ("Host", "127.0.0.1:8080"),
    ("User-Agent", "Python/3.11 aiohttp/3.14"),
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate"),
]


def _echo(event: dict[str, Any], context: Any) -> Any:
    return event["Records"][0]["cf"]["response"]


class _InProcess:
    """An invoker that runs the handler here, with both JSON legs of the worker round trip."""

    def __init__(self, handler: Any, scratch: Path) -> None:
        from edgeshield.emulator.functions.runtime import FunctionSpec

        self.handler = handler
        self.runtime_s = 0.0  # time spent on the runtime's side (decode, handler, encode)
        self.spec = FunctionSpec(
            "origin-response", "bench.handler", scratch, "bench", 128, 30.0, "us-east-1", True
        )

    async def invoke(self, event: dict[str, Any]) -> Invocation:
        from edgeshield.emulator.functions import pipe_json
        from edgeshield.emulator.functions.runtime import _SAFE_BRACKETS, Invocation

        line = pipe_json.encode_line(event)  # the edge's side
        began = time.perf_counter()
        result = self.handler(json.loads(line), None)  # the runtime's side
        reply = json.dumps(result, ensure_ascii=False).encode() + b"\n"
        self.runtime_s += time.perf_counter() - began
        decoded, strict = pipe_json.decode_reply(reply, _SAFE_BRACKETS)  # the edge's again
        invocation = Invocation("ok", "0" * 36, 0.1, decoded)
        invocation.serialisable = strict
        return invocation


def _child(case: str, requests: int) -> None:
    from edgeshield.bundle import stage
    from edgeshield.cloudfront import custom_origin
    from edgeshield.emulator.logstore import LogStore
    from edgeshield.emulator.pipeline import (
        Edge,
        EdgeSettings,
        MemoryOrigin,
        OriginSetup,
        ViewerRequest,
        static_response,
    )
    from edgeshield.emulator.pipeline.origin_fetch import CustomTarget
    from edgeshield.policy import load_and_compile

    with tempfile.TemporaryDirectory(prefix="edgeshield-bench-") as tmp:
        scratch = Path(tmp)
        functions: dict[Trigger, _InProcess] = {}
        if case == "echo":
            functions["origin-response"] = _InProcess(_echo, scratch)
        elif case == "strict":
            root = stage(load_and_compile(None), scratch / "build")
            sys.path.insert(0, str(root))
            from edgeshield.edge.handler import handler

            functions["origin-response"] = _InProcess(handler, scratch)
        origin = MemoryOrigin(lambda _r: static_response(200, ORIGIN_HEADERS, PAGE, "OK"))
        edge = Edge(
            EdgeSettings(pop="IAD89-C1", region="us-east-1"),
            OriginSetup(custom_origin("origin.example"), target=CustomTarget("http", "o", 80)),
            functions,
            LogStore(scratch / "logs", buffered=True),
            origin,
        )

        async def misses(count: int) -> None:
            for i in range(count):
                viewer = ViewerRequest(
                    "GET", f"/miss-{i}", "", VIEWER_HEADERS, b"", "127.0.0.1", "1.1"
                )
                answer = await edge.handle(viewer)
                if answer.status != 200:
                    raise RuntimeError(f"status {answer.status}")

        asyncio.run(misses(500))  # warm: imports, memos, the allocator
        invoker = functions.get("origin-response")
        if invoker is not None:
            invoker.runtime_s = 0.0
        began = time.process_time()
        asyncio.run(misses(requests))
        total = (time.process_time() - began) / requests * 1e6
        runtime = invoker.runtime_s / requests * 1e6 if invoker is not None else 0.0
        print(json.dumps({"us": total, "edge_us": total - runtime}))


class _Transport:
    """What a request's handling may ask of its connection (aiohttp's mocked request would
    otherwise give a Mock, whose every call costs microseconds the real transport does not)."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False


def _hits(requests: int) -> None:
    """CPU per cache hit of the server's request handler (``EdgeServer._handle``): the edge's
    checks, the cache lookup, the answer and aiohttp's response object, without sockets."""
    from aiohttp.test_utils import make_mocked_request

    from edgeshield.cloudfront import custom_origin
    from edgeshield.emulator.http.server import EdgeServer
    from edgeshield.emulator.logstore import LogStore
    from edgeshield.emulator.pipeline import (
        Edge,
        EdgeSettings,
        MemoryOrigin,
        OriginSetup,
        static_response,
    )
    from edgeshield.emulator.pipeline.cache import Cache
    from edgeshield.emulator.pipeline.origin_fetch import CustomTarget

    async def run() -> float:
        with tempfile.TemporaryDirectory(prefix="edgeshield-bench-") as tmp:
            origin = MemoryOrigin(lambda _r: static_response(200, ORIGIN_HEADERS, PAGE, "OK"))
            edge = Edge(
                EdgeSettings(pop="IAD89-C1", region="us-east-1"),
                OriginSetup(custom_origin("origin.example"), target=CustomTarget("http", "o", 80)),
                {},
                LogStore(Path(tmp) / "logs", buffered=True),
                origin,
                cache=Cache(64 * 1024 * 1024),
            )
            server = EdgeServer(edge, access_log=None)
            server._later = asyncio.get_running_loop().call_soon  # what start() sets
            made = [
                make_mocked_request("GET", "/page", headers=dict(VIEWER_HEADERS), transport=_Transport())
                for _ in range(requests)
            ]  # fmt: skip
            for request in made[:500]:  # the first fills the cache; the rest warm up
                answer = await server._handle(request)
            if answer.headers.get("X-Cache") != "Hit from cloudfront":
                raise RuntimeError(f"not a cache hit: {answer.headers.get('X-Cache')}")
            began = time.process_time()
            for request in made:
                await server._handle(request)
            return (time.process_time() - began) / requests * 1e6

    us = asyncio.run(run())
    print(json.dumps({"us": us, "edge_us": us}))


def _run(src: Path, case: str, requests: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, __file__, "--child", case, "--requests", str(requests)]
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another src tree, measured alike")
    parser.add_argument("--child", choices=(*CASES, HIT), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == HIT:
        _hits(args.requests)
        return
    if args.child:
        _child(args.child, args.requests)
        return
    trees = [("", ROOT / "src")]
    if args.baseline:
        trees.append(("baseline, ", args.baseline.resolve()))
    results: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.rounds):
        for case in (*CASES, HIT):
            for label, src in trees:
                results.setdefault(f"{label}{case}", []).append(_run(src, case, args.requests))
    print(f"# {machine.describe()}, {machine.utc_now()}; load average {os.getloadavg()[0]:.1f}")
    print(f"# {args.requests} misses per case and round, {args.rounds} rounds (medians)")
    print("| case | CPU µs per miss | of which the edge's | edge's vs no function |")
    print("| --- | ---: | ---: | ---: |")
    for label, _src in trees:
        floor = statistics.median(r["us"] for r in results[f"{label}no function"])
        for case in CASES:
            us = statistics.median(r["us"] for r in results[f"{label}{case}"])
            edge = statistics.median(r["edge_us"] for r in results[f"{label}{case}"])
            print(f"| {label}{case} | {us:.1f} | {edge:.1f} | {edge / floor:.2f}× |")
    print()
    print("| case | CPU µs per cache hit |")
    print("| --- | ---: |")
    for label, _src in trees:
        us = statistics.median(r["us"] for r in results[f"{label}{HIT}"])
        print(f"| {label}{HIT} | {us:.1f} |")


if __name__ == "__main__":
    main()
