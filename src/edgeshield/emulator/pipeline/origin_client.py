"""A lean HTTP/1.1 client for custom origins, over TCP or TLS.

What a cache miss needs from the origin hop is small: send the request line and the headers
the pipeline has already decided on, exactly, then read the status, the raw header lines and
the body. aiohttp's client does much more per request (a URL object, a request object with
its automatic headers and de-duplication, a response object with its own stream, a timer
rescheduled on every read), and in a profile of ``serve --no-cache`` that machinery was about
a third of the edge process's CPU per miss (docs/benchmarks.md, issue 14). Here a miss costs
one write, one parse of the answer by httptools (llhttp, Node.js's parser) and one future.
It also sends the headers as they are: aiohttp's client merged repeated ones.

Keep-alive as CloudFront keeps origin connections open: idle connections are reused, most
recently used first, and closed after ``KEEPALIVE_S`` idle (CloudFront's default origin
keep-alive timeout is 5 s). The number of connections is bounded by the requests in flight,
which the server bounds. Failures are ``ClientFailure`` with the kind CloudFront reports
(``origin_fetch`` makes them its ``OriginError``), and what is tried again is what CloudFront
tries again: connecting, up to the origin's connection attempts, and a response that does not
come in time for idempotent methods.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final, cast
from urllib.parse import quote

import httptools

from edgeshield.emulator.pipeline.answers import ErrorKind

KEEPALIVE_S: Final = 5.0
# An origin's status line or header line longer than this is not an answer the edge uses
# (aiohttp's client, which the edge used before, refused the same sizes).
MAX_LINE_BYTES: Final = 16384
MAX_HEAD_BYTES: Final = 1024 * 1024
MAX_HEADERS: Final = 128  # header lines in one answer (aiohttp's client's limit, as before)
# A streamed body stops being read from the socket while this much waits for the viewer.
_HIGH_WATER: Final = 1024 * 1024
# Methods sent without a Content-Length when there is no body (as HTTP clients, aiohttp's
# among them, do; RFC 9110 §8.6).
_NO_LENGTH_WITHOUT_BODY: Final = frozenset({"GET", "HEAD", "OPTIONS", "CONNECT", "TRACE"})
_FRAMING: Final = frozenset({"content-length", "transfer-encoding", "x-amz-cf-id"})
# What a request target may hold as it is: visible ASCII but "#" (RFC 9112 §3.2).
_TARGET_SAFE: Final = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "#")
_PLAIN_TARGET: Final = re.compile(r"[\x21\x22\x24-\x7e]*")


@dataclass(frozen=True)
class OriginTimeouts:
    connect: float = 10.0
    attempts: int = 3
    read: float = 30.0


@dataclass(frozen=True)
class CustomTarget:
    """Where a custom origin request goes. ``connect_host`` differs from ``domain`` only for a
    loopback origin, which the event shows as ``localhost`` (CloudFront origins are DNS names)."""

    protocol: str
    domain: str
    port: int
    path: str = ""
    connect_host: str | None = None
    read_timeout: float | None = None

    @property
    def host_header(self) -> str:
        default = 443 if self.protocol == "https" else 80
        return self.domain if self.port == default else f"{self.domain}:{self.port}"

    def url(self, uri: str, querystring: str) -> str:
        host = self.connect_host or self.domain
        if ":" in host:
            host = f"[{host}]"
        query = f"?{querystring}" if querystring else ""
        return f"{self.protocol}://{host}:{self.port}{self.path}{uri}{query}"


class ClientFailure(Exception):
    """Why a request to an origin failed, and whether to try again on a fresh connection.
    ``origin_fetch`` turns it into CloudFront's ``OriginError``."""

    def __init__(self, kind: ErrorKind, detail: str, retry: bool = False) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retry = retry


class Answer:
    """An origin's answer as the connection read it: status, reason, raw header lines, and
    the body read so far (``complete`` when that is all of it)."""

    __slots__ = ("complete", "data", "headers", "reason", "status")

    def __init__(
        self,
        status: int,
        reason: bytes,
        headers: list[tuple[bytes, bytes]],
        data: bytes,
        done: bool,
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.data = data
        self.complete = done


class _Connection(asyncio.Protocol):
    """One keep-alive connection to an origin, one request at a time. httptools calls the
    ``on_*`` methods while ``data_received`` feeds it."""

    def __init__(self, pool: OriginClient, key: tuple[str, int, bool]) -> None:
        self._pool = pool
        self.key = key
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self._parser: httptools.HttpResponseParser | None = None
        self._head: asyncio.Future[None] | None = None
        self._waiter: asyncio.Future[None] | None = None  # a body reader waiting for data
        self._timer: asyncio.TimerHandle | None = None
        self._read_s = 0.0
        self._last_read = 0.0
        self._status = 0
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_bytes = 0
        self._raw_head = 0
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._oversize = False
        self._head_done = False
        self._complete = False
        self._keep_alive = False
        self._is_head = False
        self._paused = False
        self._got_bytes = False
        self._error: ClientFailure | None = None

    # -- asyncio ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        if self._parser is None or self._complete or self._error is not None:
            # Bytes nobody asked for (after a complete answer, or while idle): the
            # connection is out of step with the origin, so it is not used again.
            self._keep_alive = False
            self.close()
            return
        self._got_bytes = True
        self._last_read = self.loop.time()
        if not self._head_done:
            # httptools holds a header line until it ends and interim answers until the final
            # one comes: count what arrives, so an answer whose head never ends is refused.
            self._raw_head += len(data)
            if self._raw_head > MAX_HEAD_BYTES + 65536:
                self._fail(
                    ClientFailure("origin-invalid", "the origin's response head is too large")
                )
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ClientFailure("origin-invalid", f"invalid response from the origin: {exc}"))
            return
        except httptools.HttpParserUpgrade:
            # 101 Switching Protocols to a request that asked for no upgrade (the edge
            # forwards no WebSocket connections).
            self._fail(ClientFailure("origin-invalid", "the origin answered with status 101"))
            return
        if self._oversize:
            self._fail(ClientFailure("origin-invalid", "the origin's response head is too large"))
            return
        if self._head_done:
            self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.forget(self)
        if self._parser is None or self._complete or self._error is not None:
            return
        if self._head_done and self._until_close():
            self._finish()  # the body ran to the end of the connection, as its framing says
            return
        detail = f": {exc}" if exc else ""
        retry = self.reused and not self._got_bytes  # a keep-alive connection the origin closed
        self._fail(
            ClientFailure(
                "origin-connect", f"the origin closed the connection{detail}", retry=retry
            ),
            close=False,
        )

    # -- httptools ---------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self._complete:  # another answer after the one asked for: out of step
            self._keep_alive = False
            return
        self._status, self._reason, self._headers = 0, b"", []

    def on_status(self, reason: bytes) -> None:
        if self._complete:
            return
        self._reason += reason
        self._head_bytes += len(reason)
        if len(self._reason) > MAX_LINE_BYTES:
            self._oversize = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head_done:
            return  # a trailer after a chunked body (or an answer nobody asked for)
        size = len(name) + len(value)
        self._head_bytes += size
        if (
            size > MAX_LINE_BYTES
            or self._head_bytes > MAX_HEAD_BYTES
            or len(self._headers) >= MAX_HEADERS
        ):
            self._oversize = True  # refused by data_received
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        if self._complete:
            return
        status = self._parser.get_status_code()
        if self._oversize or (100 <= status < 200 and status != 101):
            # Refused (data_received fails it), or an interim answer (100 Continue, 103 Early
            # Hints) that the final one follows.
            return
        self._status = status
        self._head_done = True
        if self._is_head:
            # llhttp cannot be told the request was HEAD and would wait for the body the
            # headers describe: the answer ends here (the next request gets a new parser; body
            # bytes an origin wrongly sends after it close the connection, see data_received).
            self._keep_alive = self._parser.should_keep_alive()
            self._finish()

    def on_body(self, body: bytes) -> None:
        if self._complete:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        assert self._parser is not None
        if not self._head_done or self._complete:
            return  # an interim answer ended (or one nobody asked for)
        self._keep_alive = self._parser.should_keep_alive()
        self._finish()

    # -- one request -------------------------------------------------------------------------
    def send(self, data: bytes, is_head: bool, read_s: float) -> asyncio.Future[None]:
        """Write a request; the future resolves when the answer's head has arrived."""
        assert self.transport is not None
        self._parser = parser = httptools.HttpResponseParser(self)
        # Lines ended by a bare LF, which RFC 9112 §2.2 lets a recipient accept (aiohttp's
        # client did). Obs-folded header lines stay refused: a gateway answers them with 502
        # (RFC 9112 §5.2).
        parser.set_dangerous_leniencies(lenient_optional_cr_before_lf=True)
        self._raw_head = 0
        self._head = self.loop.create_future()
        self._is_head = is_head
        self._chunks, self._buffered = [], 0
        self._head_bytes = 0
        self._oversize = False
        self._head_done = self._complete = self._keep_alive = self._got_bytes = False
        self._error = None
        self._read_s = read_s
        self._last_read = now = self.loop.time()
        self._timer = self.loop.call_at(now + read_s, self._check_read)
        self.transport.write(data)
        return self._head

    def answer(self) -> Answer:
        data = b"".join(self._chunks)
        self._chunks, self._buffered = [], 0
        self._resume()  # what was buffered is taken: read on (rest() waits for more)
        return Answer(self._status, self._reason, self._headers, data, self._complete)

    async def rest(self) -> AsyncIterator[bytes]:
        """The rest of a body that had not all arrived with the head."""
        while True:
            if self._chunks:
                chunk = b"".join(self._chunks)
                self._chunks, self._buffered = [], 0
                self._resume()
                yield chunk
            elif self._complete:
                return
            elif self._error is not None:
                raise self._error
            else:
                self._waiter = self.loop.create_future()
                await self._waiter

    def release(self) -> None:
        """The answer has been read (or given up on): reuse the connection when it can be."""
        self._parser = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._complete and self._keep_alive and not self.closed:
            self._pool.put_idle(self)
        else:
            self.close()

    # -- internals ---------------------------------------------------------------------------
    def _resume(self) -> None:
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
            self._last_read = self.loop.time()  # waiting on the viewer is not the origin's time

    def _until_close(self) -> bool:
        """Whether the answer's body is framed by the end of the connection: no length, and
        no Transfer-Encoding ending in chunked (RFC 9112 §6.3): then closing is how it ends."""
        for name, value in self._headers:
            lower = name.lower()
            if lower == b"content-length":
                return False
            if (
                lower == b"transfer-encoding"
                and value.rsplit(b",", 1)[-1].strip().lower() == b"chunked"
            ):
                return False
        return True

    def _finish(self) -> None:
        self._complete = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()

    def _fail(self, failure: ClientFailure, close: bool = True) -> None:
        self._error = failure
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        head, waiter = self._head, self._waiter
        if head is not None and not head.done():
            head.set_exception(failure)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)  # the reader finds the error
        if close:
            self.close()

    def _wake(self) -> None:
        head, waiter = self._head, self._waiter
        if head is not None and not head.done():
            head.set_result(None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _check_read(self) -> None:
        """The read timeout, as aiohttp's ``sock_read``: the longest wait for the next bytes.
        One timer per request, moved on when it finds bytes have arrived since."""
        self._timer = None
        if self._complete or self._error is not None or self._parser is None:
            return
        due = self._last_read + self._read_s
        now = self.loop.time()
        if self._paused or now < due:
            self._timer = self.loop.call_at(max(due, now + 0.05), self._check_read)
            return
        self._fail(ClientFailure("origin-timeout", f"no response within {self._read_s:g} s"))

    def close(self) -> None:
        self.closed = True
        self._pool.forget(self)
        if self.transport is not None:
            self.transport.close()


class OriginClient:
    """Keep-alive connections to origins, and requests over them. ``tls`` checks HTTPS
    origins' certificates (and names, as SNI)."""

    def __init__(self, timeouts: OriginTimeouts, tls: ssl.SSLContext | None = None) -> None:
        self.timeouts = timeouts
        self._tls = tls or ssl.create_default_context()
        self._idle: dict[tuple[str, int, bool], list[_Connection]] = {}
        self._sweep: asyncio.TimerHandle | None = None

    async def request(
        self, target: CustomTarget, data: bytes, method: str, read_s: float
    ) -> tuple[Answer, _Connection]:
        """Send ``data`` (a whole request) and wait for the answer's head. As for aiohttp's
        client in ``origin_fetch``: failures to connect are tried again, up to the origin's
        connection attempts, and so are read timeouts of idempotent methods; a kept-alive
        connection the origin had closed is replaced at once (idempotent methods only)."""
        key = (target.connect_host or target.domain, target.port, target.protocol == "https")
        idempotent = method in ("GET", "HEAD", "OPTIONS")
        attempts = max(1, self.timeouts.attempts)
        tries = 0
        while True:
            connection = self._take_idle(key)
            if connection is None:
                try:
                    connection = await self._connect(key)
                except ClientFailure as failure:
                    tries += 1
                    if failure.retry and tries < attempts:
                        continue
                    raise
            try:
                await connection.send(data, method == "HEAD", read_s)
            except ClientFailure as failure:
                connection.release()
                if failure.retry and idempotent:
                    continue  # a stale keep-alive connection: a fresh one, not another try
                tries += 1
                if failure.kind == "origin-timeout" and idempotent and tries < attempts:
                    continue
                raise
            except BaseException:  # cancelled (the server shutting down): drop the connection
                connection.close()
                raise
            return connection.answer(), connection

    async def _connect(self, key: tuple[str, int, bool]) -> _Connection:
        loop = asyncio.get_running_loop()
        connect_s = self.timeouts.connect
        host, port, tls = key
        try:
            # The TLS handshake counts as connecting, as for CloudFront's connection timeout.
            async with asyncio.timeout(connect_s):
                _transport, connection = await loop.create_connection(
                    lambda: _Connection(self, key), host, port,
                    ssl=self._tls if tls else None, server_hostname=host if tls else None,
                )  # fmt: skip
        except socket.gaierror as exc:
            raise ClientFailure("origin-dns", f"DNS lookup failed: {exc}") from None
        except ssl.SSLError as exc:  # a certificate not trusted or not for this name, too
            raise ClientFailure("origin-tls", f"TLS handshake failed: {exc}") from None
        except TimeoutError:
            raise ClientFailure(
                "origin-timeout", f"no connection within {connect_s:g} s", retry=True
            ) from None
        except OSError as exc:
            raise ClientFailure("origin-connect", f"connection failed: {exc}", retry=True) from None
        return connection

    def _take_idle(self, key: tuple[str, int, bool]) -> _Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        oldest = time.monotonic() - KEEPALIVE_S
        while idle:
            connection = idle.pop()
            if connection.closed or connection.idle_since < oldest:
                connection.close()
                continue
            connection.reused = True
            return connection
        return None

    def put_idle(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        self._idle.setdefault(connection.key, []).append(connection)
        if self._sweep is None:
            self._sweep = connection.loop.call_later(KEEPALIVE_S, self._close_expired)

    def forget(self, connection: _Connection) -> None:
        idle = self._idle.get(connection.key)
        if idle and connection in idle:
            idle.remove(connection)

    def _close_expired(self) -> None:
        """Close connections idle for longer than the keep-alive timeout; one timer for all."""
        self._sweep = None
        oldest = time.monotonic() - KEEPALIVE_S
        remaining = False
        for idle in list(self._idle.values()):
            for connection in [c for c in idle if c.idle_since < oldest]:
                idle.remove(connection)
                connection.close()
            remaining = remaining or bool(idle)
        if remaining:
            loop = asyncio.get_running_loop()
            self._sweep = loop.call_later(KEEPALIVE_S / 2, self._close_expired)

    def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for idle in list(self._idle.values()):
            for connection in list(idle):
                connection.close()
        self._idle.clear()


def request_bytes(
    method: str, target: CustomTarget, uri: str, querystring: str,
    headers: list[tuple[str, str]], body: bytes, request_id: str,
) -> bytes:  # fmt: skip
    """The request as it goes on the wire: the headers as the pipeline left them (names as
    written, repeats kept), framing for the body actually sent, CloudFront's X-Amz-Cf-Id, and
    a Host from the origin's address only when none is left (as aiohttp's client adds one)."""
    query = f"?{querystring}" if querystring else ""
    path_qs = f"{target.path}{uri}{query}"
    if not _PLAIN_TARGET.fullmatch(path_qs):
        # A function's URI with a space, a control character, a "#" or non-ASCII text:
        # percent-encoded, so the request line stays one line and means what it says.
        path_qs = quote(path_qs, safe=_TARGET_SAFE)
    lines = [f"{method} {path_qs} HTTP/1.1"]
    has_host = False
    for name, value in headers:
        lower = name.lower()
        if lower in _FRAMING:
            continue
        if lower == "host":
            has_host = True
        lines.append(f"{name}: {value}")
    if not has_host:
        host = target.connect_host or target.domain
        shown = f"[{host}]" if ":" in host else host
        lines.insert(1, f"Host: {shown}" if target.port == 80 else f"Host: {shown}:{target.port}")
    lines.append(f"X-Amz-Cf-Id: {request_id}")
    if body or method not in _NO_LENGTH_WITHOUT_BODY:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("\r\n")
    data = "\r\n".join(lines).encode("utf-8")
    # Every CR and LF must be one of ours: a value carrying one would split the request.
    if data.count(b"\n") != len(lines) or data.count(b"\r") != len(lines):
        raise ValueError("a request header holds a line break")
    return data + body if body else data
