"""``Edge.quick_hit`` answers a plain cache hit from what the server parsed, before the request
becomes a flow. Whatever the requests, the headers' case, the cookies, the query strings and
the behavior's settings, it must answer exactly as ``Edge.handle`` does (only the request id
and Age's second may differ), never answer what ``handle`` would not answer from the cache,
and not leave a plain hit to the long way (one whose Via already ends with this edge's
included). What it works out once per cached object counts against the cache's budget."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from edgeshield.cloudfront import HeaderPairs, Trigger, custom_origin
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.pipeline import (
    GET_HEAD,
    Edge,
    EdgeResponse,
    EdgeSettings,
    InMemoryInvoker,
    Invoker,
    MemoryOrigin,
    OriginSetup,
    ViewerRequest,
    forwarding,
    static_response,
)
from edgeshield.emulator.pipeline.cache import Cache
from edgeshield.emulator.pipeline.origin_fetch import CustomTarget, OriginRequest, OriginResponse
from edgeshield.emulator.pipeline.response_headers_policy import ResponseHeadersPolicy
from edgeshield.emulator.pipeline.viewer_stage import Behaviour, ViewerStage
from tests.emulator.helpers import (
    Proc,
    exchange,
    headers_of,
    origin_hits,
    start_serve,
    status_line,
)

ORIGIN = "origin.example.com"


def _origin(edge_via: list[str]) -> MemoryOrigin:
    """An origin whose answers differ by everything a cache key could hold, so that a hit
    taken from the wrong object shows; some paths are not cacheable, one comes back through
    this very edge (its Via already ends with the edge's own), one carries a Server header."""

    def answer(request: OriginRequest) -> OriginResponse:
        seen = f"{request.uri}?{request.querystring}|" + "|".join(
            f"{n.lower()}={v}" for n, v in request.headers if n.lower() in ("cookie", "accept-encoding")
        )  # fmt: skip
        if request.uri == "/a" and forwarding.get(request.headers, "if-none-match") == '"x"':
            # Revalidation: the kept object's headers are updated in place (a hit's worked-out
            # headers must be worked out again).
            updated = [("X-Seen", seen + "|revalidated"), ("Cache-Control", "max-age=600")]
            return static_response(304, updated, b"", "Not Modified")
        headers = [("Content-Type", "text/plain"), ("X-Seen", seen), ("Age", "3")]
        if request.uri == "/a":  # validators: a conditional question may get a 304
            headers += [("ETag", '"x"'), ("Last-Modified", "Sun, 29 Nov 2026 09:00:00 GMT")]
        if request.uri == "/private":
            headers.append(("Cache-Control", "no-store"))
        else:
            headers.append(("Cache-Control", "max-age=600"))
        if request.uri == "/looped":
            headers.append(("Via", edge_via[0]))
        if request.uri == "/served":
            headers += [("Server", "origin-server"), ("Via", "1.1 upstream.example")]
        body = b"" if request.method == "HEAD" else seen.encode()
        return static_response(200, headers, body, "OK")

    return MemoryOrigin(answer)


def _edge(
    scratch: Path,
    functions: dict[Trigger, Invoker],
    stage: ViewerStage | None = None,
    **options: Any,
) -> Edge:
    via: list[str] = []
    edge = Edge(
        EdgeSettings(pop="IAD89-C1", region="us-east-1", **options),
        OriginSetup(custom_origin(ORIGIN), target=CustomTarget("https", ORIGIN, 443)),
        functions,
        LogStore(scratch / "logs"),
        _origin(via),
        cache=Cache(4 * 1024 * 1024),
        viewer_stage=stage,
    )
    via.append(f"1.1 {edge.edge_id}.cloudfront.net (CloudFront)")
    return edge


_hosts = st.sampled_from(["Site.Example", "site.example", "other.example:8443"])
# Beyond ASCII too (a no-break space, as a server reads an ISO-8859-1 byte): those requests
# must go the long way, which keys them as it stores them.
_encodings = st.sampled_from(["gzip", "br, gzip", "gzip;q=0, br", "identity", "*", "\xa0gzip"])
_validators = st.sampled_from(['"x"', "Mon, 30 Nov 2026 09:00:00 GMT"])
_header = st.one_of(
    st.tuples(st.sampled_from(["Host", "host", "HOST"]), _hosts),
    st.tuples(st.sampled_from(["Accept-Encoding", "accept-encoding"]), _encodings),
    st.tuples(st.sampled_from(["Cookie", "cookie"]), st.sampled_from(["a=1", "b=2", "a=\xe9"])),
    st.tuples(st.sampled_from(["User-Agent", "Accept"]), st.sampled_from(["x", "*/*"])),
)
_request = st.tuples(
    st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "OPTIONS"]),
    st.sampled_from(["/a", "/a", "/A", "/private", "/looped", "/served"]),
    st.sampled_from(["", "", "v=1"]),
    st.lists(_header, max_size=4),
)
# A step: which of a few requests comes again (repeats are what a cache is about), with its
# own method or as a GET or HEAD, the seconds that pass before it (cached answers keep 600),
# and a conditional question it may add.
_step = st.tuples(
    st.integers(0, 5),
    st.sampled_from([None, None, "GET", "HEAD"]),
    st.sampled_from([0.0, 0.0, 0.0, 1.5, 700.0]),
    st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["If-None-Match", "if-modified-since"]), _validators),
    ),
)


# Response headers policies that touch what a hit's headers are made of: the headers the edge
# itself sets (Age, Via, Server), the origin's, and new ones, with and without override.
_touched = st.sampled_from(["Age", "Via", "Server", "X-Seen", "Content-Type", "X-Policy", "ETag"])
_settings = st.tuples(_touched, st.sampled_from(["1", "set-by-policy"]), st.booleans())
_policy = st.builds(
    ResponseHeadersPolicy,
    st.just("policy"),
    st.frozensets(_touched.map(str.lower), max_size=2),
    st.lists(_settings, max_size=3).map(tuple),
)


def _stage_of(a: ResponseHeadersPolicy, rest: ResponseHeadersPolicy | None) -> ViewerStage:
    return ViewerStage(None, [Behaviour("/a*", a), *([Behaviour("*", rest)] if rest else [])])


# No viewer stage, or one with a policy for some paths (CloudFront picks the first behaviour
# whose pattern matches), and none for others.
_stage = st.one_of(st.none(), st.builds(_stage_of, _policy, st.one_of(st.none(), _policy)))


def _masked(response: EdgeResponse) -> tuple[Any, ...]:
    headers = [(n, "*" if n == "X-Amz-Cf-Id" else v) for n, v in response.headers]
    return (
        response.status,
        response.reason,
        headers,
        response.body,
        response.x_cache,
        response.head_length,
        response.stream_length,
    )


@settings(max_examples=300, deadline=None)
@given(
    pool=st.lists(_request, min_size=1, max_size=6),
    steps=st.lists(_step, min_size=1, max_size=25),
    query_string=st.booleans(),
    forward_cookies=st.booleans(),
    get_head_only=st.booleans(),
    stage=_stage,
)
def test_a_quick_hit_is_what_handle_answers(
    pool: list[tuple[str, str, str, HeaderPairs]],
    steps: list[tuple[int, str | None, float, tuple[str, str] | None]],
    query_string: bool,
    forward_cookies: bool,
    get_head_only: bool,
    stage: ViewerStage | None,
) -> None:
    options: dict[str, Any] = {"query_string": query_string, "forward_cookies": forward_cookies}
    if get_head_only:
        options["allowed_methods"] = GET_HEAD
    # The edge's clock moves only when the test says, so Age is compared too, and cached
    # objects go stale on cue.
    clock = [1000.0]
    edge_time = SimpleNamespace(monotonic=lambda: clock[0], time=time.time)
    with (
        tempfile.TemporaryDirectory() as scratch,
        mock.patch("edgeshield.emulator.pipeline.edge.time", edge_time),
    ):
        edge = _edge(Path(scratch), {}, stage, **options)
        for index, as_method, later, question in steps:
            method, uri, query, headers = pool[index % len(pool)]
            method = as_method or method
            headers = [*headers, question] if question is not None else headers
            clock[0] += later
            parsed = CIMultiDictProxy(CIMultiDict(headers))
            quick = edge.quick_hit(method, uri, query, parsed)
            viewer = ViewerRequest(method, uri, query, headers, b"", "203.0.113.9")
            full = asyncio.run(edge.handle(viewer))
            if quick is not None:
                assert quick.x_cache == "Hit"
                assert _masked(quick) == _masked(full)
            elif (full.x_cache, full.status) == ("Hit", 200):
                # Every plain hit goes the quick way, but a conditional question, or a key made
                # of more than ASCII (an encoding, or a cookie when the key holds cookies).
                keyed = [v for n, v in headers if n.lower() == "accept-encoding"][:1]
                if forward_cookies:
                    keyed += [v for n, v in headers if n.lower() == "cookie"]
                assert question is not None or not all(v.isascii() for v in keyed), headers
            assert edge.cache is not None
            _assert_counted(edge.cache)


def _assert_counted(cache: Cache) -> None:
    """The cache's byte count is its objects' sizes, and an object's size counts the headers
    its hits send once they are worked out."""
    kept = list(cache._items.values())
    assert cache.bytes == sum(item.size for item in kept)
    for item in kept:
        memo = sum(len(n) + len(v) + 4 for n, v in item.hit_memo[2]) if item.hit_memo else 0
        own = len(item.body) + sum(len(n) + len(v) + 4 for n, v in item.headers) + 256
        assert item.size == own + memo


def test_repeated_plain_hits_go_the_quick_way() -> None:
    """The property above could pass with quick_hit never answering: here it must."""
    with tempfile.TemporaryDirectory() as scratch:
        edge = _edge(Path(scratch), {})
        headers = CIMultiDictProxy(CIMultiDict([("Host", "site.example")]))
        assert edge.quick_hit("GET", "/a", "", headers) is None  # nothing cached yet
        asyncio.run(edge.handle(ViewerRequest("GET", "/a", "", [("Host", "site.example")], b"", "")))  # fmt: skip
        hit = edge.quick_hit("GET", "/a", "", headers)
        assert hit is not None and (hit.status, hit.x_cache) == (200, "Hit")
        other = edge.quick_hit("GET", "/a", "", headers)
        assert other is not None and other.request_id != hit.request_id


def test_what_hits_send_counts_against_the_cache_budget() -> None:
    """Objects with small bodies weigh mostly headers: once hits have worked out what they
    send, the cache holds fewer of them, and never more bytes than its budget. An object that
    its hits' headers take past the largest size kept is dropped, and only it."""
    with tempfile.TemporaryDirectory() as scratch:
        edge = _edge(Path(scratch), {})
        cache = edge.cache = Cache(6000, 1500)
        host = CIMultiDictProxy(CIMultiDict([("Host", "site.example")]))
        paths = [f"/served/{i}" for i in range(12)]
        for path in paths:
            viewer = ViewerRequest("GET", path, "", [("Host", "site.example")], b"", "")
            assert asyncio.run(edge.handle(viewer)).x_cache == "Miss"
        stored = len(cache)
        before = cache.bytes
        assert stored >= 2
        newest = paths[-stored:]
        hits = [edge.quick_hit("GET", path, "", host) for path in newest]
        assert all(hit is not None for hit in hits)
        _assert_counted(cache)
        assert cache.bytes <= cache.max_bytes
        assert cache.bytes > before or len(cache) < stored  # grew, or made room by evicting
        assert cache.evictions > 12 - stored

    # A small object, and a response headers policy that adds a header of 1,000 bytes: with
    # the headers its hits send, the object is over the 1,500 bytes an object may weigh.
    policy = ResponseHeadersPolicy("p", frozenset(), (("X-Policy", "p" * 1000, True),))
    with tempfile.TemporaryDirectory() as scratch:
        edge = _edge(Path(scratch), {}, _stage_of(policy, None))
        cache = edge.cache = Cache(6000, 1500)
        for path in ("/other", "/a-big"):  # the policy is for /a*
            viewer = ViewerRequest("GET", path, "", [("Host", "site.example")], b"", "")
            assert asyncio.run(edge.handle(viewer)).x_cache == "Miss"
        hit = edge.quick_hit("GET", "/a-big", "", host)
        assert hit is not None and hit.x_cache == "Hit"  # answered, then dropped
        assert ("X-Policy", "p" * 1000) in hit.headers
        assert len(cache) == 1 and cache.get("site.example/a-big") is None
        assert cache.get("site.example/other") is not None
        _assert_counted(cache)


def test_an_object_that_left_the_cache_during_its_revalidation_is_not_counted() -> None:
    """A 304 updates the headers of the object it revalidates. If that object was evicted,
    replaced or cleared while the origin answered, its new headers count for nothing."""
    for meanwhile in ("evicted", "replaced", "cleared"):
        asyncio.run(_revalidate_after(meanwhile))


async def _revalidate_after(meanwhile: str) -> None:
    gate = asyncio.Event()

    async def answer(request: OriginRequest) -> OriginResponse:
        if forwarding.get(request.headers, "if-none-match") is not None:
            await gate.wait()  # the origin takes its time; the cache moves on meanwhile
            grown = [("X-Grown", "g" * 300), ("Cache-Control", "max-age=600")]
            return static_response(304, grown, b"", "Not Modified")
        headers = [("ETag", '"v"'), ("Cache-Control", "max-age=600")]
        return static_response(200, headers, b"b" * 50, "OK")

    clock = [1000.0]
    edge_time = SimpleNamespace(monotonic=lambda: clock[0], time=time.time)
    with (
        tempfile.TemporaryDirectory() as scratch,
        mock.patch("edgeshield.emulator.pipeline.edge.time", edge_time),
    ):
        edge = _edge(Path(scratch), {})
        edge.http = MemoryOrigin(answer)
        cache = edge.cache = Cache(3000, 1000)

        def get(path: str) -> Any:
            return edge.handle(ViewerRequest("GET", path, "", [("Host", "h")], b"", ""))

        assert [(await get("/x")).x_cache, (await get("/x")).x_cache] == ["Miss", "Hit"]
        clock[0] += 700.0  # stale: the next request revalidates
        revalidation = asyncio.create_task(get("/x"))
        await asyncio.sleep(0)
        assert not revalidation.done()
        if meanwhile == "evicted":
            for i in range(12):
                await get(f"/fill/{i}")
            assert cache.get("h/x") is None
        elif meanwhile == "replaced":
            cache.remove("h/x")
            assert (await get("/x")).x_cache == "Miss"
        else:
            cache.clear()
        counted = cache.bytes
        gate.set()
        assert (await revalidation).x_cache == "RefreshHit"
        assert cache.bytes == counted, meanwhile
        _assert_counted(cache)


def test_no_quick_hit_when_a_function_runs_on_the_way() -> None:
    def passthrough(event: dict[str, Any], _context: Any) -> Any:
        cf = event["Records"][0]["cf"]
        return cf.get("response", cf["request"])

    headers = [("Host", "site.example")]
    triggers: tuple[Trigger, ...] = ("viewer-request", "viewer-response")
    for trigger in triggers:
        with tempfile.TemporaryDirectory() as scratch:
            edge = _edge(Path(scratch), {trigger: InMemoryInvoker(trigger, passthrough)})
            for _ in range(2):
                full = asyncio.run(edge.handle(ViewerRequest("GET", "/a", "", headers, b"", "")))
            assert full.x_cache == "Hit"  # cached, but the function must see it
            parsed = CIMultiDictProxy(CIMultiDict(headers))
            assert edge.quick_hit("GET", "/a", "", parsed) is None


def test_bytes_a_server_reads_its_own_way_do_not_change_the_answer(origin: Proc) -> None:
    """Through a real server: a header value that is not UTF-8 is text of one kind to aiohttp
    and of another to the flow. A value whose bytes the flow reads as a no-break space before
    "gzip" is keyed as gzip; the quick way must not answer it from the object kept for no
    encoding at all, nor serve a latin-1 cookie the object of another."""
    edge = start_serve(
        Path(tempfile.mkdtemp(prefix="quick-hit-")),
        "--origin", f"http://127.0.0.1:{origin.port}", "--forward-cookies", "--quiet",
    )  # fmt: skip
    try:

        def x_cache(path: str, *lines: bytes) -> str:
            head = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: site.example\r\n"
            raw = exchange(edge.port, head + b"".join(line + b"\r\n" for line in lines) + b"\r\n")
            assert status_line(raw).endswith("200 OK"), raw[:200]
            return headers_of(raw)["x-cache"]

        path = "/cc/max-age=600/encoded"
        assert x_cache(path) == "Miss from cloudfront"
        assert x_cache(path) == "Hit from cloudfront"  # the quick way, no encoding
        assert x_cache(path, b"Accept-Encoding: \xa0gzip") == "Miss from cloudfront"
        assert x_cache(path, b"Accept-Encoding: gzip") == "Hit from cloudfront"  # same key
        assert x_cache(path, b"Accept-Encoding: \xa0gzip") == "Hit from cloudfront"
        cookie = "/cc/max-age=600/cookie"
        assert x_cache(cookie, b"Cookie: a=\xe9") == "Miss from cloudfront"
        assert x_cache(cookie, b"Cookie: a=\xc3\xa9") == "Hit from cloudfront"  # both are "é"
        assert x_cache(cookie, b"Cookie: a=\xe9") == "Hit from cloudfront"
        assert x_cache(cookie, b"Cookie: a=e") == "Miss from cloudfront"
        assert origin_hits(origin, path) == 2 and origin_hits(origin, cookie) == 2
    finally:
        assert edge.stop() == 0


def test_a_revalidated_object_is_answered_with_its_new_headers() -> None:
    """A 304 from the origin updates a kept object's headers in place: the quick way must
    answer with them, not with the headers it worked out before (with or without a policy)."""
    policy = ResponseHeadersPolicy("p", frozenset({"server"}), (("X-Policy", "1", True),))
    for stage in (None, _stage_of(policy, None)):
        _revalidate_and_compare(stage)


def _revalidate_and_compare(stage: ViewerStage | None) -> None:
    clock = [1000.0]
    edge_time = SimpleNamespace(monotonic=lambda: clock[0], time=time.time)
    with (
        tempfile.TemporaryDirectory() as scratch,
        mock.patch("edgeshield.emulator.pipeline.edge.time", edge_time),
    ):
        edge = _edge(Path(scratch), {}, stage)
        viewer = ViewerRequest("GET", "/a", "", [("Host", "site.example")], b"", "")
        parsed = CIMultiDictProxy(CIMultiDict(viewer.headers))
        assert asyncio.run(edge.handle(viewer)).x_cache == "Miss"
        before = edge.quick_hit("GET", "/a", "", parsed)
        assert before is not None and ("X-Seen", "/a?|") in before.headers
        clock[0] += 700.0  # stale: the next request revalidates, and the origin says 304
        assert asyncio.run(edge.handle(viewer)).x_cache == "RefreshHit"
        after = edge.quick_hit("GET", "/a", "", parsed)
        assert after is not None and ("X-Seen", "/a?||revalidated") in after.headers
        assert _masked(after) == _masked(asyncio.run(edge.handle(viewer)))
