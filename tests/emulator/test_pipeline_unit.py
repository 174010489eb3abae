"""The edge's pipeline driven in-process: functions are plain Python handlers run by
``InMemoryInvoker`` and the origin is a ``MemoryOrigin``, so every CloudFront rule of the
request's journey is checked without a process or a socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from edgeshield.cloudfront import HeaderPairs, Trigger, custom_origin
from edgeshield.emulator.logstore import LogStore, read_events
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
    static_response,
)
from edgeshield.emulator.pipeline.cache import Cache
from edgeshield.emulator.pipeline.origin_fetch import (
    CustomTarget,
    OriginError,
    OriginRequest,
    OriginResponse,
)
from edgeshield.logrecords import edge_validation_log_group

ORIGIN = "origin.example.com"
PAGE = b"<!doctype html><title>page</title>"
Handler = Callable[[dict[str, Any], Any], Any]


def page_origin(cache_control: str = "max-age=300") -> MemoryOrigin:
    def answer(request: OriginRequest) -> OriginResponse:
        headers = [
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(PAGE))),
            ("Cache-Control", cache_control),
            ("ETag", '"v1"'),
        ]
        if request.uri.startswith("/missing"):
            return static_response(404, [("Content-Type", "text/plain")], b"nope", "Not Found")
        return static_response(200, headers, b"" if request.method == "HEAD" else PAGE, "OK")

    return MemoryOrigin(answer)


class Rig:
    """One edge with in-memory functions and origin, and what the console said."""

    def __init__(
        self,
        tmp_path: Path,
        handlers: Mapping[Trigger, Handler] | None = None,
        origin: MemoryOrigin | None = None,
        **settings: Any,
    ) -> None:
        self.origin = origin or page_origin()
        self.invokers = {t: InMemoryInvoker(t, h) for t, h in (handlers or {}).items()}
        self.console: list[str] = []
        self.logs = LogStore(tmp_path / "logs")
        functions: dict[Trigger, Invoker] = dict(self.invokers)
        self.edge = Edge(
            EdgeSettings(pop="IAD89-C1", region="us-east-1", **settings),
            OriginSetup(custom_origin(ORIGIN), target=CustomTarget("https", ORIGIN, 443)),
            functions,
            self.logs,
            self.origin,
            cache=Cache(4 * 1024 * 1024),
            console=self.console.append,
        )

    def get(
        self, uri: str = "/", method: str = "GET", headers: HeaderPairs | None = None
    ) -> EdgeResponse:
        viewer = ViewerRequest(
            method,
            uri,
            "",
            [("Host", "d111111abcdef8.cloudfront.net"), *(headers or [])],
            b"",
            "203.0.113.9",
        )
        return asyncio.run(self.edge.handle(viewer))

    def seen(self, trigger: Trigger) -> list[dict[str, Any]]:
        """The ``cf`` record of each event the trigger's function was given."""
        return [e["Records"][0]["cf"] for e in self.invokers[trigger].events]


def header(response: EdgeResponse, name: str) -> str | None:
    values = [v for n, v in response.headers if n.lower() == name.lower()]
    assert len(values) <= 1, values
    return values[0] if values else None


def body(response: EdgeResponse) -> bytes:
    assert isinstance(response.body, bytes)
    return response.body


def passthrough(event: dict[str, Any], _context: Any) -> Any:
    cf = event["Records"][0]["cf"]
    return cf.get("response", cf["request"])


def add_header(name: str, value: str) -> Handler:
    def handler(event: dict[str, Any], _context: Any) -> Any:
        response = event["Records"][0]["cf"]["response"]
        response["headers"][name.lower()] = [{"key": name, "value": value}]
        return response

    return handler


def generate(status: str, text: str, cache_control: str | None = None) -> Handler:
    def handler(_event: dict[str, Any], _context: Any) -> Any:
        headers = {"content-type": [{"key": "Content-Type", "value": "text/plain"}]}
        if cache_control:
            headers["cache-control"] = [{"key": "Cache-Control", "value": cache_control}]
        return {
            "status": status,
            "statusDescription": "Made Here",
            "headers": headers,
            "body": text,
        }

    return handler


def test_a_miss_then_a_hit_runs_origin_response_once_and_viewer_response_each_time(
    tmp_path: Path,
) -> None:
    rig = Rig(
        tmp_path,
        {
            "origin-response": add_header("Strict-Transport-Security", "max-age=63072000"),
            "viewer-response": add_header("X-Seen-By", "viewer-response"),
        },
    )
    first, second = rig.get("/page"), rig.get("/page")

    assert (first.status, first.x_cache, body(first)) == (200, "Miss", PAGE)
    assert (second.status, second.x_cache, body(second)) == (200, "Hit", PAGE)
    for response in (first, second):
        assert header(response, "Strict-Transport-Security") == "max-age=63072000"
        assert header(response, "X-Seen-By") == "viewer-response"
        assert header(response, "X-Cache") == f"{response.x_cache} from cloudfront"
        assert header(response, "X-Amz-Cf-Pop") == "IAD89-C1"
        assert header(response, "X-Amz-Cf-Id") == response.request_id
        assert (header(response, "Via") or "").endswith(".cloudfront.net (CloudFront)")
    assert header(second, "Age") is not None
    assert first.request_id != second.request_id

    # The origin saw one request, forwarded the way CloudFront forwards it.
    [sent] = rig.origin.requests
    names = {n.lower(): v for n, v in sent.headers}
    assert (sent.method, sent.uri, names["host"]) == ("GET", "/page", ORIGIN)
    assert names["user-agent"] == "Amazon CloudFront"
    assert names["x-forwarded-for"] == "203.0.113.9"
    assert sent.request_id == first.request_id
    assert len(rig.seen("origin-response")) == 1
    assert [cf["config"]["requestId"] for cf in rig.seen("viewer-response")] == [
        first.request_id,
        second.request_id,
    ]


def test_a_viewer_request_answer_is_sent_as_is_and_never_cached(tmp_path: Path) -> None:
    rig = Rig(
        tmp_path,
        {
            "viewer-request": generate("200", "from viewer-request", "max-age=300"),
            "viewer-response": add_header("X-Seen-By", "viewer-response"),
        },
    )
    responses = [rig.get("/a"), rig.get("/a")]

    for response in responses:
        assert (response.status, response.reason) == (200, "Made Here")
        assert response.x_cache == "LambdaGeneratedResponse"
        assert body(response) == b"from viewer-request"
        assert header(response, "X-Seen-By") is None  # no other trigger runs
        assert header(response, "Via") is not None
        assert header(response, "Date") is not None
    assert len(rig.invokers["viewer-request"].events) == 2
    assert rig.invokers["viewer-response"].events == []
    assert rig.origin.requests == []


@pytest.mark.parametrize(
    ("status", "cache_control", "cached"),
    [("302", None, True), ("301", None, True), ("307", None, False), ("308", None, False),
     ("308", "max-age=60", True)],
)  # fmt: skip
def test_a_redirect_made_at_origin_request_is_cached_as_cloudfront_caches_redirects(
    tmp_path: Path, status: str, cache_control: str | None, cached: bool
) -> None:
    """A geo or A/B redirect made at origin-request is kept like any redirect, for everyone
    who asks next: 301-303 by the TTL rules, 307 and 308 only with a Cache-Control header."""
    rig = Rig(tmp_path, {"origin-request": generate(status, "moved", cache_control)})
    first, second = rig.get("/old"), rig.get("/old")
    assert first.status == second.status == int(status)
    assert second.x_cache == ("Hit" if cached else "LambdaGeneratedResponse")
    assert len(rig.invokers["origin-request"].events) == (1 if cached else 2)


def test_an_origin_request_answer_is_cached_and_skips_origin_response(tmp_path: Path) -> None:
    rig = Rig(
        tmp_path,
        {
            "origin-request": generate("200", "made at origin-request", "max-age=300"),
            "origin-response": add_header("X-Origin-Response", "ran"),
        },
    )
    first, second = rig.get("/g"), rig.get("/g")

    assert (first.x_cache, second.x_cache) == ("LambdaGeneratedResponse", "Hit")
    assert body(first) == body(second) == b"made at origin-request"
    assert header(first, "X-Origin-Response") is None
    assert len(rig.invokers["origin-request"].events) == 1
    assert rig.invokers["origin-response"].events == []
    assert rig.origin.requests == []


def test_viewer_response_does_not_run_for_error_statuses(tmp_path: Path) -> None:
    rig = Rig(tmp_path, {"viewer-response": add_header("X-Seen-By", "viewer-response")})
    missing, found = rig.get("/missing"), rig.get("/found")

    assert (missing.status, header(missing, "X-Seen-By")) == (404, None)
    assert (found.status, header(found, "X-Seen-By")) == (200, "viewer-response")
    assert [cf["request"]["uri"] for cf in rig.seen("viewer-response")] == ["/found"]


def test_a_raising_function_is_cloudfronts_503_and_the_edge_keeps_serving(
    tmp_path: Path,
) -> None:
    def fragile(event: dict[str, Any], _context: Any) -> Any:
        request = event["Records"][0]["cf"]["request"]
        if request["uri"] == "/boom":
            raise KeyError("no such thing")
        return request

    rig = Rig(tmp_path, {"origin-request": fragile})
    failed, served = rig.get("/boom"), rig.get("/fine")

    assert (failed.status, failed.x_cache) == (503, "LambdaExecutionError")
    assert header(failed, "X-Cache") == "LambdaExecutionError from cloudfront"
    assert failed.request_id.encode() in body(failed)
    assert [line for line in rig.console if "KeyError" in line] == [
        f"503 LambdaExecutionError: origin-request function fragile: KeyError: "
        f"'no such thing' [X-Amz-Cf-Id {failed.request_id}]"
    ]
    assert (served.status, served.x_cache, body(served)) == (200, "Miss", PAGE)
    assert [r.uri for r in rig.origin.requests] == ["/fine"]
    assert rig.edge.stats.errors == {"execution": 1}  # as X-Cache names it


def test_an_invalid_result_is_cloudfronts_502_with_its_validation_log(tmp_path: Path) -> None:
    rig = Rig(tmp_path, {"viewer-response": add_header("X-Cache", "mine")})
    failed = rig.get("/")

    assert (failed.status, failed.x_cache) == (502, "LambdaValidationError")
    assert b"failed validation" in body(failed)
    assert any("502 LambdaValidationError" in line for line in rig.console)
    group = edge_validation_log_group("EDFDVBD6EXAMPLE")
    [event] = list(read_events(rig.logs.root, groups=[group]))
    assert event.region == "us-east-1"
    assert event.message.startswith(f"{failed.request_id} ERROR Validation error: ")
    assert "EventType: viewer-response" in event.message
    # The object itself was fetched and cached before viewer-response refused it.
    assert len(rig.origin.requests) == 1
    assert rig.edge.stats.errors == {"validation": 1}


def test_a_result_that_is_not_json_is_an_execution_error(tmp_path: Path) -> None:
    rig = Rig(tmp_path, {"viewer-request": lambda _event, _context: {"uri": object()}})
    failed = rig.get("/")

    assert (failed.status, failed.x_cache) == (503, "LambdaExecutionError")
    assert any("Runtime.MarshalError" in line for line in rig.console)
    assert rig.origin.requests == []
    assert rig.edge.stats.errors == {"execution": 1}


def test_head_is_answered_from_a_cached_get(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    got, head = rig.get("/doc"), rig.get("/doc", method="HEAD")

    assert (got.x_cache, head.x_cache) == ("Miss", "Hit")
    assert head.head_length == str(len(PAGE))
    assert [r.method for r in rig.origin.requests] == ["GET"]


def test_a_head_that_misses_is_kept_for_heads_only(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    head, again, got = rig.get("/h", "HEAD"), rig.get("/h", "HEAD"), rig.get("/h")

    assert (head.x_cache, again.x_cache, got.x_cache) == ("Miss", "Hit", "Miss")
    assert head.head_length == again.head_length == str(len(PAGE))
    assert body(got) == PAGE
    assert [r.method for r in rig.origin.requests] == ["HEAD", "GET"]


def test_an_origin_304_refreshes_the_cached_object(tmp_path: Path) -> None:
    def answer(request: OriginRequest) -> OriginResponse:
        asked = {n.lower(): v for n, v in request.headers}
        if asked.get("if-none-match") == '"v1"':
            return static_response(304, [("Cache-Control", "max-age=300"), ("X-Version", "2")])
        headers = [("Cache-Control", "max-age=1"), ("ETag", '"v1"'), ("X-Version", "1")]
        return static_response(200, headers, PAGE)

    rig = Rig(tmp_path, origin=MemoryOrigin(answer))
    first = rig.get("/r")
    time.sleep(1.05)  # max-age=1 runs out
    refreshed, hit = rig.get("/r"), rig.get("/r")

    assert (first.x_cache, refreshed.x_cache, hit.x_cache) == ("Miss", "RefreshHit", "Hit")
    assert body(refreshed) == PAGE
    assert header(refreshed, "X-Version") == header(hit, "X-Version") == "2"
    assert header(hit, "Cache-Control") == "max-age=300"
    assert header(hit, "ETag") == '"v1"'
    assert len(rig.origin.requests) == 2


def test_a_viewers_conditional_get_is_answered_304_by_the_edge(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.get("/c")
    answer = rig.get("/c", headers=[("If-None-Match", '"v1"')])

    assert (answer.status, answer.x_cache, body(answer)) == (304, "Hit", b"")
    assert header(answer, "ETag") == '"v1"'
    assert header(answer, "Content-Type") is None
    # The edge answers the condition itself: the origin never sees it.
    assert all("if-none-match" not in dict(r.headers) for r in rig.origin.requests)


def test_a_method_the_behavior_does_not_allow_is_403_before_any_function(tmp_path: Path) -> None:
    rig = Rig(tmp_path, {"viewer-request": passthrough}, allowed_methods=GET_HEAD)
    refused = rig.get("/form", method="POST")

    assert (refused.status, refused.x_cache) == (403, "Error")
    assert b"not configured to allow the HTTP request method" in body(refused)
    assert rig.invokers["viewer-request"].events == []
    assert rig.origin.requests == []


def test_origin_request_can_rewrite_the_uri_and_the_origin(tmp_path: Path) -> None:
    def reroute(event: dict[str, Any], _context: Any) -> Any:
        request = event["Records"][0]["cf"]["request"]
        request["uri"] = "/v2" + request["uri"]
        request["origin"]["custom"]["domainName"] = "other.example.net"
        request["headers"]["host"] = [{"key": "Host", "value": "other.example.net"}]
        return request

    handlers: dict[Trigger, Handler] = {
        "origin-request": reroute,
        "origin-response": passthrough,
        "viewer-response": passthrough,
    }
    rig = Rig(tmp_path, handlers)
    response = rig.get("/item")

    assert (response.status, response.x_cache) == (200, "Miss")
    [sent] = rig.origin.requests
    assert sent.target is not None
    assert (sent.target.domain, sent.uri) == ("other.example.net", "/v2/item")
    assert dict(sent.headers)["Host"] == "other.example.net"
    [after] = rig.seen("origin-response")
    assert after["request"]["uri"] == "/v2/item"
    assert after["request"]["origin"]["custom"]["domainName"] == "other.example.net"
    # viewer-response sees the viewer's request, whatever origin-request did.
    assert rig.seen("viewer-response")[0]["request"]["uri"] == "/item"


@pytest.mark.parametrize("status", ["999", "abc"])
def test_a_bad_generated_status_is_a_validation_error(tmp_path: Path, status: str) -> None:
    rig = Rig(tmp_path, {"origin-request": generate(status, "x")})
    failed = rig.get("/")

    assert (failed.status, failed.x_cache) == (502, "LambdaValidationError")
    assert rig.origin.requests == []


def test_an_async_handler_is_awaited_and_its_changes_reach_the_origin(tmp_path: Path) -> None:
    async def tag(event: dict[str, Any], context: Any) -> Any:
        await asyncio.sleep(0)
        request = event["Records"][0]["cf"]["request"]
        request["headers"]["x-tag"] = [{"key": "X-Tag", "value": context.function_name}]
        return request

    rig = Rig(tmp_path, {"viewer-request": tag})
    response = rig.get("/t")

    assert (response.status, response.x_cache) == (200, "Miss")
    assert ("X-Tag", "us-east-1.in-memory-function") in rig.origin.requests[0].headers


def test_an_origin_failure_while_revalidating_serves_the_expired_copy(tmp_path: Path) -> None:
    calls: list[str] = []

    def answer(request: OriginRequest) -> OriginResponse:
        calls.append(request.uri)
        if len(calls) > 1:
            raise OriginError("origin-connect", "connection refused")
        return static_response(200, [("Cache-Control", "max-age=1")], PAGE)

    rig = Rig(tmp_path, origin=MemoryOrigin(answer))
    first = rig.get("/s")
    time.sleep(1.05)
    stale, fresh_miss = rig.get("/s"), rig.get("/other")

    assert (first.x_cache, stale.x_cache) == ("Miss", "RefreshHit")
    assert (stale.status, body(stale)) == (200, PAGE)
    # Without a copy to fall back on, the failure is CloudFront's 502, and the console says why
    # (the served copy needs no line: the viewer got what it asked for).
    assert (fresh_miss.status, fresh_miss.x_cache) == (502, "Error")
    assert rig.edge.stats.errors["origin-connect"] == 2
    assert rig.console == [
        f"502 Error: the origin: connection refused [X-Amz-Cf-Id {fresh_miss.request_id}]"
    ]


def test_a_plain_hit_is_what_the_general_path_makes_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hits with nothing at viewer-response take a shortcut (headers worked out once per
    cached object); header for header, it must answer as the stages would."""

    def answer(request: OriginRequest) -> OriginResponse:
        headers = [
            ("Content-Type", "text/html"),
            ("Age", "7"),  # an upstream cache's: replaced by the edge's own
            ("Via", "1.1 upstream.example"),  # kept, the edge's own appended
            ("Cache-Control", "max-age=300"),
            ("ETag", '"v1"'),
            ("Server", "origin-server"),
        ]
        return static_response(200, headers, b"" if request.method == "HEAD" else PAGE, "OK")

    handlers: dict[Trigger, Handler] = {"origin-response": add_header("X-Added", "yes")}
    fast = Rig(tmp_path / "fast", handlers, origin=MemoryOrigin(answer))
    general = Rig(tmp_path / "general", handlers, origin=MemoryOrigin(answer))
    general.edge.edge_id = fast.edge.edge_id  # the same Via for both
    shortcuts: list[EdgeResponse] = []
    plain_hit = Edge._plain_hit

    def counted(edge: Edge, flow: Any) -> EdgeResponse | None:
        made = plain_hit(edge, flow)
        if made is not None:
            shortcuts.append(made)
        return made

    monkeypatch.setattr(Edge, "_plain_hit", counted)

    def answers(rig: Rig) -> list[tuple[int, list[tuple[str, str]], bytes, str | None]]:
        out = []
        for method, extra in (
            ("GET", []),
            ("GET", []),
            ("HEAD", []),
            ("GET", [("If-None-Match", '"v1"')]),
        ):
            response = rig.get("/page", method, extra)
            # Every header in its place; only the id (and Age's second) may differ.
            kept = [(n, "*" if n in ("X-Amz-Cf-Id", "Age") else v) for n, v in response.headers]
            out.append((response.status, kept, body(response), response.head_length))
        return out

    fast_answers = answers(fast)
    assert len(shortcuts) == 2  # the GET and the HEAD hits; the conditional one went the long way
    monkeypatch.setattr(Edge, "_plain_hits", property(lambda self: False))
    general_answers = answers(general)
    assert len(shortcuts) == 2
    # The first request was a miss; the rest are hits (plain: the second and third).
    assert [a[1][-3] for a in fast_answers] == [("X-Cache", "Miss from cloudfront")] + [
        ("X-Cache", "Hit from cloudfront")
    ] * 3
    assert fast_answers == general_answers
    hit = fast_answers[1][1]
    assert (
        "Via",
        f"1.1 upstream.example, 1.1 {fast.edge.edge_id}.cloudfront.net (CloudFront)",
    ) in hit
    assert ("Server", "origin-server") in hit and ("X-Added", "yes") in hit
    assert fast_answers[3][0] == 304


def test_returning_the_whole_event_serves_the_origins_answer_and_says_why(tmp_path: Path) -> None:
    """A common slip: ``return event`` at origin-response. AWS documents nothing about it, so
    the answer is the origin's, as given, whatever read-only headers the origin sent (Via
    here); the console says what went wrong."""

    def answer(_request: OriginRequest) -> OriginResponse:
        headers = [("Content-Type", "text/html"), ("Via", "1.1 upstream.example")]
        return static_response(200, headers, PAGE, "OK")

    rig = Rig(tmp_path, {"origin-response": lambda event, _context: event}, MemoryOrigin(answer))
    response = rig.get("/page")
    assert (response.status, response.x_cache) == (200, "Miss")
    assert body(response) == PAGE
    assert header(response, "Content-Type") == "text/html"
    said = "\n".join(rig.console)
    assert "returns event['Records'][0]['cf']['response'], not the event" in said
    assert "the response has no headers field" in said


def test_a_long_reason_is_cut_and_the_request_id_still_shows(tmp_path: Path) -> None:
    """The console line's untrusted part is cut, not its end: the id to look for in the logs
    survives any length of origin or function text."""

    def answer(_request: OriginRequest) -> OriginResponse:
        raise OriginError("origin-invalid", "invalid response from the origin: " + "x" * 5000)

    rig = Rig(tmp_path, origin=MemoryOrigin(answer))
    failed = rig.get("/")
    [line] = rig.console
    assert line.startswith("502 Error: the origin: invalid response from the origin: xxx")
    assert line.endswith(f"… [X-Amz-Cf-Id {failed.request_id}]")
    assert len(line) < 700
