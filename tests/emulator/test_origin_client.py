"""The lean client for plain-HTTP custom origins (``origin_client``), through ``HttpOrigin`` as
the edge uses it, against raw servers on 127.0.0.1 that send exactly the bytes each case needs:
keep-alive reuse, an idle connection the origin closed, interim 1xx answers, bodies framed by
the end of the connection, chunked trailers, answers that break off or are not HTTP, and what
goes on the wire."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from edgeshield.emulator.pipeline import origin_client
from edgeshield.emulator.pipeline.origin_fetch import (
    CustomTarget,
    HttpOrigin,
    OriginError,
    OriginRequest,
    OriginResponse,
    OriginTimeouts,
)

Reply = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # keep the connection?


class RawOrigin:
    """Reads request heads (and Content-Length bodies); ``reply`` writes raw bytes back."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> RawOrigin:
        if self.server is None:  # else started already (with TLS)
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + (await reader.readexactly(length) if length else b"")
                self.requests.append(request)
                if not await self.reply(request, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client left, or the test is over
        writer.close()


def _target(port: int) -> CustomTarget:
    return CustomTarget("http", "localhost", port, connect_host="127.0.0.1")


async def _fetch(
    origin: HttpOrigin, port: int, uri: str = "/", method: str = "GET", **kw: Any
) -> tuple[OriginResponse, bytes]:
    headers = kw.pop("headers", [("Host", "example.com")])
    request = OriginRequest(method, uri, "", headers, kw.pop("body", b""), "cf-id", _target(port))
    response = await origin.fetch(request)
    chunks = [chunk async for chunk in response.body.chunks()]
    return response, b"".join(chunks)


async def _origin(**timeouts: Any) -> HttpOrigin:
    http = HttpOrigin(OriginTimeouts(**{"connect": 2.0, "attempts": 3, "read": 2.0, **timeouts}))
    await http.start()
    return http


def _ok(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def _answered(answer: bytes) -> tuple[OriginResponse, bytes] | str:
    """What HttpOrigin makes of an origin that sends ``answer`` and closes: the response and
    its body, or the kind of OriginError."""

    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer)
        return False

    async def run() -> tuple[OriginResponse, bytes] | str:
        async with RawOrigin(reply) as raw:
            http = await _origin(attempts=1)
            try:
                return await _fetch(http, raw.port)
            except OriginError as exc:
                return exc.kind
            finally:
                await http.close()

    return asyncio.run(run())


def test_connections_are_kept_alive_and_reused() -> None:
    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(_ok())
        return True

    async def run() -> int:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                for _ in range(5):
                    response, body = await _fetch(http, raw.port)
                    assert (response.status, body) == (200, b"ok")
            finally:
                await http.close()
            return raw.connections

    assert asyncio.run(run()) == 1


def test_an_idle_connection_the_origin_closed_is_replaced_without_an_error() -> None:
    """An origin whose keep-alive timeout is shorter than the edge's closes idle connections;
    the next GET must go out on a fresh connection, not fail with a 502."""

    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(_ok())
        await writer.drain()
        return False  # close once answered, without saying so (no Connection: close)

    async def run() -> tuple[int, int]:
        async with RawOrigin(reply) as raw:
            http = await _origin(attempts=1)
            try:
                for _ in range(4):
                    _response, body = await _fetch(http, raw.port)
                    assert body == b"ok"
                    await asyncio.sleep(0.05)  # the origin's close arrives while idle...
                # ...or, with no pause, races the next request: both must work.
                for _ in range(4):
                    _response, body = await _fetch(http, raw.port)
                    assert body == b"ok"
            finally:
                await http.close()
            return raw.connections, len(raw.requests)

    connections, requests = asyncio.run(run())
    assert requests == 8
    assert connections == 8


def test_a_post_on_a_stale_connection_is_not_sent_twice() -> None:
    """A non-idempotent request on a kept-alive connection the origin has just closed is
    CloudFront's 502, never a silent second POST."""
    gate = asyncio.Event()

    async def reply(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(_ok())
        await writer.drain()
        gate.set()
        return False

    async def run() -> tuple[str | None, int]:
        async with RawOrigin(reply) as raw:
            http = await _origin(attempts=3)
            try:
                await _fetch(http, raw.port)
                await gate.wait()
                try:
                    # The close may not have reached the client yet: then it is noticed
                    # when the POST is refused. Either way one POST at most reaches it.
                    await _fetch(http, raw.port, method="POST", body=b"x")
                    kind = None
                except OriginError as exc:
                    kind = exc.kind
            finally:
                await http.close()
            return kind, sum(r.startswith(b"POST") for r in raw.requests)

    kind, posts = asyncio.run(run())
    assert posts <= 1
    assert kind in (None, "origin-connect")
    if kind is None:
        assert posts == 1


def test_interim_answers_are_skipped_and_trailers_dropped() -> None:
    async def reply(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if request.startswith(b"GET /early"):
            writer.write(
                b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                + _ok(b"final", b"X-Final: yes\r\n")
            )
        else:
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
            )
        return True

    async def run() -> list[tuple[int, list[tuple[str, str]], bytes]]:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                seen = []
                for uri in ("/early", "/chunked", "/early"):
                    response, body = await _fetch(http, raw.port, uri)
                    seen.append((response.status, response.headers, body))
            finally:
                await http.close()
            assert raw.connections == 1
            return seen

    early, chunked, again = asyncio.run(run())
    assert early[0] == 200 and early[2] == b"final"
    assert ("X-Final", "yes") in early[1] and not any(n == "Link" for n, _ in early[1])
    assert chunked[2] == b"abcde"
    assert not any(n == "X-Trailer" for n, _ in chunked[1])
    assert again[2] == b"final"


def test_a_body_framed_by_the_end_of_the_connection() -> None:
    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"part two")
        return False

    async def run() -> bytes:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                _response, body = await _fetch(http, raw.port)
                _response, again = await _fetch(http, raw.port)  # a new connection
                assert again == body
            finally:
                await http.close()
            assert raw.connections == 2
            return body

    assert asyncio.run(run()) == b"part one, part two"


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (b"hello there\r\n\r\n", "origin-invalid"),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", "origin-invalid"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "origin-invalid"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "origin-connect"),
        (b"", "origin-connect"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "origin-invalid"),
    ],
    ids=["not-http", "huge-header", "two-lengths", "head-cut", "closed", "upgrade"],
)
def test_answers_that_are_not_usable(answer: bytes, kind: str) -> None:
    assert _answered(answer) == kind


def test_a_body_that_breaks_off_fails_the_reader_and_the_connection_is_not_reused() -> None:
    async def reply(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if request.startswith(b"GET /cut"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 50)
            await writer.drain()
            return False
        writer.write(_ok())
        return True

    async def run() -> None:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                response = await http.fetch(
                    OriginRequest("GET", "/cut", "", [("Host", "a")], b"", "id", _target(raw.port))
                )
                assert response.status == 200
                with pytest.raises(origin_client.ClientFailure):
                    await response.body.fill(10**6)
                _response, body = await _fetch(http, raw.port)
                assert body == b"ok"
            finally:
                await http.close()

    asyncio.run(run())


def test_a_large_body_streams_with_backpressure() -> None:
    """While the viewer does not read, the edge stops reading from the origin: the origin's
    writes block once the socket buffers are full, instead of the edge taking the whole
    body into memory."""
    size = 64 * 1024 * 1024
    sent = 0

    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        nonlocal sent
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        block = b"y" * 65536
        for _ in range(size // len(block)):
            writer.write(block)
            await writer.drain()
            sent += len(block)
        return True

    async def run() -> tuple[int, int]:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                response = await http.fetch(
                    OriginRequest("GET", "/", "", [("Host", "a")], b"", "id", _target(raw.port))
                )
                await asyncio.sleep(0.5)  # a viewer that does not read for a while
                sent_while_stalled = sent
                total = sum([len(chunk) async for chunk in response.body.chunks()])
                _response, _again = await _fetch(http, raw.port)  # the connection is reusable
            finally:
                await http.close()
            assert raw.connections == 1
            return total, sent_while_stalled

    total, sent_while_stalled = asyncio.run(run())
    assert total == size
    assert sent_while_stalled < size // 4


def test_head_answers_end_at_the_headers() -> None:
    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
        return True

    async def run() -> OriginResponse:
        async with RawOrigin(reply) as raw:
            http = await _origin(read=0.5)
            try:
                response, body = await _fetch(http, raw.port, method="HEAD")
            finally:
                await http.close()
            assert body == b""
            return response

    response = asyncio.run(run())
    assert ("Content-Length", "5000") in response.headers


def test_what_goes_on_the_wire() -> None:
    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(_ok())
        return True

    async def run() -> list[bytes]:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                headers = [("Host", "a.example"), ("X-A", "1"), ("x-a", "2"), ("X-U", "é✓"),
                           ("Content-Length", "99"), ("X-Amz-Cf-Id", "forged")]  # fmt: skip
                await _fetch(http, raw.port, "/p%20x", headers=headers)
                await _fetch(http, raw.port, method="POST", headers=[("X-B", "2")])
                await _fetch(http, raw.port, method="PUT", body=b"abc")
                with pytest.raises(ValueError, match="line break"):
                    await _fetch(http, raw.port, headers=[("X-Evil", "a\r\nX-Injected: 1")])
            finally:
                await http.close()
            return raw.requests

    get, post, put = asyncio.run(run())
    assert get == (
        b"GET /p%20x HTTP/1.1\r\nHost: a.example\r\nX-A: 1\r\nx-a: 2\r\n"
        b"X-U: \xc3\xa9\xe2\x9c\x93\r\nX-Amz-Cf-Id: cf-id\r\n\r\n"
    )
    port = post.split(b"Host: 127.0.0.1:")[1].split(b"\r\n")[0]
    assert post == (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nX-B: 2\r\nX-Amz-Cf-Id: cf-id\r\n"
        b"Content-Length: 0\r\n\r\n" % port
    )
    assert put.endswith(b"Content-Length: 3\r\n\r\nabc")


def test_idle_connections_close_after_the_keepalive_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(origin_client, "KEEPALIVE_S", 0.2)

    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(_ok())
        return True

    async def run() -> int:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                await _fetch(http, raw.port)
                await asyncio.sleep(0.6)  # the sweep closes it...
                await _fetch(http, raw.port)  # ...so this opens another
            finally:
                await http.close()
            return raw.connections

    assert asyncio.run(run()) == 2


def test_https_origins_are_checked_and_kept_alive(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")  # a dev dependency: present wherever tests run
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(_ok(b"secure"))
        return True

    async def run(names: tuple[str, ...], trusted: bool) -> tuple[str, int]:
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(server_tls)
        raw = RawOrigin(reply)
        raw.server = await asyncio.start_server(raw._serve, "127.0.0.1", 0, ssl=server_tls)
        raw.port = raw.server.sockets[0].getsockname()[1]
        async with raw:
            http = HttpOrigin(OriginTimeouts(2.0, 3, 2.0), ca_file if trusted else None)
            await http.start()
            target = CustomTarget("https", "localhost", raw.port, connect_host="127.0.0.1")
            try:
                outcome = ""
                for _ in range(3):
                    request = OriginRequest("GET", "/", "", [("Host", "a")], b"", "id", target)
                    try:
                        response = await http.fetch(request)
                        outcome += response.body.data.decode()
                    except OriginError as exc:
                        outcome = exc.kind
                        break
            finally:
                await http.close()
            return outcome, raw.connections

    assert asyncio.run(run(("localhost", "127.0.0.1"), trusted=True)) == ("secure" * 3, 1)
    assert asyncio.run(run(("localhost", "127.0.0.1"), trusted=False))[0] == "origin-tls"
    assert asyncio.run(run(("other.example",), trusted=True))[0] == "origin-tls"


# -- from the review of the client ------------------------------------------------------------


def test_a_head_and_a_large_body_in_one_burst_stream_to_the_end_under_uvloop() -> None:
    """uvloop reads a socket several times before the task waiting for the head runs, so the
    head arrives with more than the read-pause threshold of body behind it: reading must go
    on once the head's data is taken, or the request hangs for good."""
    uvloop = pytest.importorskip("uvloop")  # serve's loop where it is installed (Linux: always)
    size = 8 * 1024 * 1024

    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
        await writer.drain()
        return True

    async def run() -> list[int]:
        async with RawOrigin(reply) as raw:
            http = await _origin(read=3.0)
            try:
                sizes = []
                for _ in range(4):
                    _response, body = await asyncio.wait_for(_fetch(http, raw.port), 15)
                    sizes.append(len(body))
            finally:
                await http.close()
            return sizes

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(run()) == [size] * 4


@pytest.mark.parametrize(
    ("head", "why"),
    [
        (b"HTTP/1.1 200 OK\r\nX-Endless: ", "a header line that never ends"),
        (b"HTTP/1.1 200 OK\r\n", "header lines that never end"),
        (b"", "interim answers that never end"),
    ],
)
def test_a_head_that_never_ends_is_refused_early(head: bytes, why: str) -> None:
    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(head)
        for n in range(2000):  # up to 128 MB, unless the edge gives up first
            if head.endswith(b": "):
                writer.write(b"a" * 65536)
            elif head:
                writer.write(b"".join(b"X-%d-%d: v\r\n" % (n, i) for i in range(4000)))
            else:
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" * 2500)
            await writer.drain()
        return False

    async def run() -> tuple[str, float]:
        async with RawOrigin(reply) as raw:
            http = await _origin(attempts=1)
            began = asyncio.get_running_loop().time()
            try:
                with pytest.raises(OriginError) as caught:
                    await _fetch(http, raw.port)
            finally:
                await http.close()
            return caught.value.kind, asyncio.get_running_loop().time() - began

    kind, seconds = asyncio.run(run())
    assert kind == "origin-invalid", why
    assert seconds < 1.5, why


@pytest.mark.parametrize(
    ("answer", "status", "reason", "body"),
    [
        # RFC 9112 §6.3: a Transfer-Encoding that does not end in chunked runs to the close.
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello", 200, "OK", b"hello"),
        (b"HTTP/1.1 200 \xc3\xa9t\xc3\xa9\r\nContent-Length: 2\r\n\r\nok", 200, "été", b"ok"),
        (b"HTTP/1.1 201 Made\nContent-Length: 2\n\nok", 201, "Made", b"ok"),  # bare LF
    ],
    ids=["te-not-chunked", "utf8-reason", "bare-lf"],
)
def test_answers_the_old_client_took_are_taken(
    answer: bytes, status: int, reason: str, body: bytes
) -> None:
    answered = _answered(answer)
    assert not isinstance(answered, str), answered
    response, got = answered
    assert (response.status, response.reason, got) == (status, reason, body)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok",  # RFC 9112 §5.2
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
    ],
    ids=["obs-fold", "too-many-headers"],
)
def test_answers_a_gateway_refuses(answer: bytes) -> None:
    assert _answered(answer) == "origin-invalid"


def test_head_requests_reuse_their_connection() -> None:
    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
        return True

    async def run() -> int:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                for _ in range(5):
                    _response, body = await _fetch(http, raw.port, method="HEAD")
                    assert body == b""
            finally:
                await http.close()
            return raw.connections

    assert asyncio.run(run()) == 1


def test_a_uri_that_cannot_go_on_the_wire_as_it_is_is_encoded() -> None:
    async def reply(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(_ok())
        return True

    async def run() -> bytes:
        async with RawOrigin(reply) as raw:
            http = await _origin()
            try:
                await _fetch(http, raw.port, "/a b#c\r\nX-Injected: 1/é")
            finally:
                await http.close()
            return raw.requests[0]

    request = asyncio.run(run())
    assert request.startswith(b"GET /a%20b%23c%0D%0AX-Injected:%201/%C3%A9 HTTP/1.1\r\n")
    assert b"\r\nX-Injected" not in request
