"""The HTTP side of the edge: aiohttp's low-level server in front of ``Edge``.

Refuses what CloudFront refuses before any function or origin sees it (URL over 8,192 bytes,
request line + headers over 20,480 bytes: 413; malformed HTTP: CloudFront's 400 page, see
guard.py), bounds the number of requests in the pipeline (a fresh cache hit with nothing to
run is answered before it, see ``Edge.quick_hit``), and hands a few reserved paths
to local routes (the seam for e.g. ``/_edgeshield/csp-report``, which another cache behavior
serves in production).

Hostile clients: a request must be HTTP/1.0 or 1.1 (CloudFront's text protocols; HTTP/0.9 and
made-up versions get 400); HTTP/1.1 needs exactly one Host header (RFC 9112 §3.2: 400); a Host
that cannot name any distribution (empty, or not a host name or address) gets CloudFront's 403
"Bad request." (CloudFront picks the distribution by Host); a request whose headers do not
arrive within ``header_timeout`` seconds, or whose body stalls that long, loses its
connection; a viewer that leaves mid-body costs one console line.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING, Final

from edgeshield.cloudfront.rules import MAX_REQUEST_HEADER_BYTES, MAX_URL_BYTES
from edgeshield.emulator.pipeline import Edge, EdgeResponse, ViewerRequest
from edgeshield.emulator.pipeline.answers import PAGE_BAD_REQUEST, Answer, answer_for
from edgeshield.emulator.pipeline.origin_fetch import Body, wire_pairs
from edgeshield.safetext import printable

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.http_exceptions import HttpProcessingError
    from multidict import CIMultiDict

LocalRoute = Callable[["web.BaseRequest"], Awaitable["web.StreamResponse"]]
AccessLog = Callable[[str, str, int, str, float], None]
MAX_BODY_BYTES: Final = 20 * 1024 * 1024  # viewer request bodies kept in memory at most
HEADER_TIMEOUT: Final = 20.0  # seconds for a request's headers (or a stalled body) to arrive
# A Host no distribution can have: CloudFront answers 403 "Bad request." (it picks the
# distribution by Host; https://repost.aws/knowledge-center/resolve-cloudfront-bad-request-error).
NO_DISTRIBUTION: Final = Answer(403, "Error", PAGE_BAD_REQUEST)


def console_access_log(method: str, path: str, status: int, x_cache: str, ms: float) -> None:
    """One line per request on the console: method, path, status, X-Cache, time."""
    # The method and path are the viewer's: no escape sequence reaches the terminal.
    line = f"{printable(method, limit=32)} {printable(path, limit=2048)}"
    sys.stdout.write(f"{line} {status} {x_cache} {ms:.1f}ms\n")
    sys.stdout.flush()


_HOST_RE = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9_.-]+))(?::\d{1,5})?$")


@lru_cache(maxsize=1024)
def _redirect_host(value: str) -> str | None:
    """The host of a Host header (without its port), or None when it is not a plain host name,
    IPv4 address or bracketed IPv6 address."""
    match = _HOST_RE.match(value.strip())
    if match is None:
        return None
    return match.group("v6") or match.group("name")


def _bound_port(site: web.TCPSite, requested: int) -> int:
    sockets = getattr(site._server, "sockets", None) or []
    return int(sockets[0].getsockname()[1]) if sockets else requested


class EdgeServer:
    def __init__(
        self,
        edge: Edge,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        max_in_flight: int = 256,
        access_log: AccessLog | None = console_access_log,
        shutdown_timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        redirect_port: int | None = None,
        header_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        self.edge = edge
        self.header_timeout = header_timeout
        self.host = host
        self.port = port
        # With TLS, like a viewer protocol policy of redirect-to-https: a plain-HTTP listener
        # that only redirects (no function runs for it, as AWS's trigger docs say).
        self.ssl_context = ssl_context
        self.redirect_port = redirect_port
        self._redirect_runner: web.ServerRunner | None = None
        self.access_log = access_log
        self.local_routes: dict[str, LocalRoute] = {}
        self._limit = asyncio.Semaphore(max_in_flight)
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.ServerRunner | None = None
        self._later: Callable[..., object] = _no_loop_yet

    def add_local_route(self, path: str, handler: LocalRoute) -> None:
        """Serve ``path`` (exact, without query) locally instead of through the edge."""
        self.local_routes[path] = handler

    async def start(self) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        from aiohttp import web

        from edgeshield.emulator.http.guard import GuardedServer

        # Looked up once: asyncio's lookup asks the kernel for the process id every time.
        self._later = asyncio.get_running_loop().call_soon

        server = GuardedServer(
            self._handle,
            on_bad_request=self._bad_request,
            # Above CloudFront's limits, so that we answer those with CloudFront's 413 and only
            # truly absurd requests hit the parser (which gets the same 413, see _bad_request).
            max_line_size=MAX_URL_BYTES * 4,
            max_field_size=MAX_REQUEST_HEADER_BYTES * 2,
            max_headers=512,
            handler_cancellation=False,
            # aiohttp closes a connection that has not delivered a complete request this long
            # after it opened (or after the last response): the header-read deadline.
            keepalive_timeout=self.header_timeout,
        )
        self._runner = web.ServerRunner(server, shutdown_timeout=self._shutdown_timeout)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            self.host,
            self.port,
            backlog=512,
            reuse_address=True,
            ssl_context=self.ssl_context,
        )
        await site.start()
        self.port = _bound_port(site, self.port)
        if self.redirect_port is not None:
            self._redirect_runner = web.ServerRunner(
                GuardedServer(
                    self._redirect,
                    on_bad_request=self._bad_request,
                    keepalive_timeout=self.header_timeout,
                )
            )
            await self._redirect_runner.setup()
            plain = web.TCPSite(
                self._redirect_runner, self.host, self.redirect_port, reuse_address=True
            )
            await plain.start()
            self.redirect_port = _bound_port(plain, self.redirect_port)
        return self.port

    async def _redirect(self, request: web.BaseRequest) -> web.StreamResponse:
        """CloudFront's answer to http:// under redirect-to-https: 301 to the same URL."""
        from aiohttp import web

        from edgeshield.emulator.pipeline.answers import redirect_page

        target = request.raw_path
        refused = _refusal(request)
        if refused is not None:
            self._log(request.method, target, refused.status, "Error", 0.0)
            return _plain(self.edge.answer(refused, _rid()))
        host = _redirect_host(request.headers.get("Host", ""))
        if not target.startswith("/") or host is None:
            # Only origin-form targets and well-formed Host headers: the Location is built
            # from them, so anything else could point the viewer somewhere unintended.
            # CloudFront's own 400 page, with the headers of all its answers.
            self._log(request.method, target, 400, "Error", 0.0)
            return self._respond(request, self.edge.answer(answer_for("bad-request"), _rid()))
        shown = f"[{host}]" if ":" in host else host
        location = f"https://{shown}:{self.port}{target}"
        self._log(request.method, request.path, 301, "Redirect", 0.0)
        return web.Response(
            status=301,
            body=redirect_page(),
            headers={
                "Content-Type": "text/html",
                "Location": location,
                "Server": "CloudFront",
                **dict(self.edge.cloudfront_headers("Redirect", _rid())),
            },
        )

    async def stop(self) -> None:
        """Stop listening, let in-flight requests finish (up to the shutdown timeout)."""
        if self._redirect_runner is not None:
            await self._redirect_runner.cleanup()
            self._redirect_runner = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        raw = request.raw_path
        path, _, query = raw.partition("?")
        if request.version[:2] < (1, 0):
            return self._answer_http09(request, path)
        response = await self._route(request, raw, path, query)
        ms = (time.perf_counter() - started) * 1000
        if isinstance(response, EdgeResponse):
            self.edge.stats.request(response.status, response.x_cache, ms)
            if isinstance(response.body, bytes):  # most answers: no coroutine to go through
                out: web.StreamResponse = self._respond(request, response)
            else:
                out = await self._stream(request, response, response.body)
            if self.access_log is not None:
                # Printed once the answer is under way (aiohttp writes it as this task step
                # ends): the console line changes nothing the viewer gets, so it need not wait.
                self._later(self._log, request.method, path, response.status, response.x_cache, ms)
            return out
        self._stamp(response)
        self._log(request.method, path, response.status, "Local", ms)
        return response

    def _bad_request(
        self, request: web.BaseRequest, exc: HttpProcessingError
    ) -> web.StreamResponse:
        """What the parser refused: CloudFront's 413 for an oversized line or header (the
        parser's limits are above CloudFront's), its 400 page for anything else."""
        from aiohttp.http_exceptions import LineTooLong

        answer = answer_for("too-large" if isinstance(exc, LineTooLong) else "bad-request")
        response = self.edge.answer(answer, _rid())
        self.edge.stats.request(response.status, response.x_cache, 0.0)
        # aiohttp's message spans lines (the offending bytes and a caret): keep it on one.
        words = " ".join(str(exc.message or type(exc).__name__).split())
        reason = printable(words.removesuffix(" ^"), limit=200)
        self._log("-", f"(unparsable request: {reason})", response.status, response.x_cache, 0.0)
        return _plain(response)

    def _answer_http09(self, request: web.BaseRequest, path: str) -> web.StreamResponse:
        """CloudFront speaks HTTP/1.0 and later to viewers: an HTTP/0.9 request (no version,
        no headers) gets the 400 page with an HTTP/1.1 status line, then the connection
        closes. aiohttp would echo "HTTP/0.9" in the status line, so the bytes go out here."""
        from aiohttp import web

        response = self.edge.answer(answer_for("bad-request"), _rid())
        self.edge.stats.request(response.status, response.x_cache, 0.0)
        head = [f"HTTP/1.1 {response.status} {response.reason}"]
        head += [f"{name}: {value}" for name, value in response.headers]
        assert isinstance(response.body, bytes)
        head += [f"Content-Length: {len(response.body)}", "Connection: close"]
        if request.transport is not None:
            request.transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + response.body)
            request.transport.close()
        self._log(request.method, path, response.status, response.x_cache, 0.0)
        return web.Response(status=response.status)  # aiohttp's copy meets a closed socket

    def _stamp(self, response: web.StreamResponse) -> None:
        """A local route stands for another cache behavior of the same distribution, so its
        answers carry what CloudFront adds to every answer (not cached: Miss)."""
        if response.prepared:
            return
        headers = response.headers
        for name, value in self.edge.cloudfront_headers("Miss", _rid()):
            if name == "Via" and "Via" in headers:
                value = f"{headers['Via']}, {value}"
            headers[name] = value
        headers.setdefault("Server", "CloudFront")

    def _log(self, method: str, path: str, status: int, x_cache: str, ms: float) -> None:
        if self.access_log is None:
            return
        try:
            self.access_log(method, path, status, x_cache, ms)
        except OSError:  # the console went away (closed pipe): keep serving, stop printing
            self.access_log = None

    async def _route(
        self, request: web.BaseRequest, raw: str, path: str, query: str
    ) -> EdgeResponse | web.StreamResponse:
        edge = self.edge
        if (
            len(raw) if raw.isascii() else len(raw.encode("utf-8", "surrogateescape"))
        ) > MAX_URL_BYTES:
            return edge.answer(answer_for("too-large"), _rid())
        size = len(request.method) + len(raw) + 12
        lines = request.raw_headers  # each counted as "name: value" and CRLF
        size += sum(map(len, chain.from_iterable(lines))) + 4 * len(lines)
        if size > MAX_REQUEST_HEADER_BYTES:
            return edge.answer(answer_for("too-large"), _rid())
        if not path.startswith("/"):
            return edge.answer(answer_for("bad-request"), _rid())
        refused = _refusal(request)
        if refused is not None:
            return edge.answer(refused, _rid())
        route = self.local_routes.get(path)
        if route is not None:
            return await route(request)
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return edge.answer(
                answer_for("too-large", "Bad request. The body is too large."), _rid()
            )
        if not request.body_exists:
            # A fresh cache hit with nothing to run is answered here: it needs neither a slot
            # in the in-flight limit nor the request decoded into the edge's own terms.
            try:
                hit = edge.quick_hit(request.method, path, query, request.headers)
            except Exception:  # a bug of ours: say so on the console, and go the long way
                traceback.print_exc(file=sys.stderr)
                hit = None
            if hit is not None:
                return hit
        # The body is read inside the in-flight limit, so memory for bodies is bounded by
        # --max-in-flight x the body limit, not by the number of open connections.
        async with self._limit:
            try:
                body = (
                    await asyncio.wait_for(_read_body(request), _body_deadline(length, self))
                    if request.body_exists
                    else b""  # most requests: no body to wait for
                )
            except ValueError:
                return edge.answer(
                    answer_for("too-large", "Bad request. The body is too large."), _rid()
                )
            except (ConnectionError, TimeoutError, _payload_errors()):
                # The viewer left, stalled, or framed the body badly (bad chunking): nobody
                # may be listening, but whoever is gets CloudFront's 400, and we go on.
                if request.transport is not None:
                    request.transport.close()
                return edge.answer(answer_for("bad-request"), _rid())
            headers = wire_pairs(request.raw_headers)
            viewer = ViewerRequest(
                method=request.method,
                uri=path,
                querystring=query,
                headers=headers,
                body=body,
                client_ip=request.remote or "127.0.0.1",
                http_version=f"{request.version.major}.{request.version.minor}",
            )
            return await edge.handle(viewer)

    def _respond(self, request: web.BaseRequest, response: EdgeResponse) -> web.Response:
        """An answer whose body is in memory, as aiohttp's response. web.Response makes its own
        CIMultiDict of the list: no copy of ours in between. The edge's headers never carry
        framing (it is redone here)."""
        response_class = _aiohttp_names()[0]
        pairs = response.headers
        if request.method == "HEAD":
            if response.head_length is not None:
                pairs = [*pairs, ("Content-Length", response.head_length)]
            return response_class(status=response.status, reason=response.reason, headers=pairs)
        return response_class(
            status=response.status, reason=response.reason, headers=pairs, body=response.body
        )

    async def _stream(
        self, request: web.BaseRequest, response: EdgeResponse, body: Body
    ) -> web.StreamResponse:
        """An answer whose body is still coming from the origin, sent as it comes."""
        _, stream_class, multidict_class = _aiohttp_names()
        headers: CIMultiDict[str] = multidict_class(response.headers)
        stream = stream_class(status=response.status, reason=response.reason, headers=headers)
        length = response.stream_length
        if length is not None and length.strip().isdigit():
            stream.content_length = int(length)
        else:
            stream.enable_chunked_encoding()
        try:
            await stream.prepare(request)
            async for chunk in body.chunks():
                await stream.write(chunk)
            await stream.write_eof()
        except Exception:
            # The origin failed mid-body (or the viewer left): CloudFront drops the connection.
            body.close()
            if request.transport is not None:
                request.transport.close()
        return stream


@lru_cache(maxsize=1)
def _aiohttp_names() -> tuple[type[web.Response], type[web.StreamResponse], type[CIMultiDict[str]]]:
    """The classes ``_respond`` and ``_stream`` need, imported on first use (pytest's plugin imports this
    module in every session, and most never serve) and then looked up once, not per
    request."""
    from aiohttp import web
    from multidict import CIMultiDict

    return web.Response, web.StreamResponse, CIMultiDict


def _no_loop_yet(*_args: object) -> None:
    raise RuntimeError("EdgeServer.start() has not run")


def _refusal(request: web.BaseRequest) -> Answer | None:
    """CloudFront's answer to a request it would not route, or None."""
    if request.version[:2] not in ((1, 0), (1, 1)):
        return answer_for("bad-request")  # HTTP/0.9 or a made-up version
    hosts = request.headers.getall("Host", [])
    if len(hosts) > 1 or (not hosts and request.version[:2] == (1, 1)):
        return answer_for("bad-request")  # RFC 9112 §3.2: exactly one Host in HTTP/1.1
    if hosts and _redirect_host(hosts[0]) is None:
        return NO_DISTRIBUTION
    return None


def _plain(response: EdgeResponse) -> web.Response:
    """An edge answer with an in-memory body (CloudFront's own pages) as an aiohttp response."""
    from aiohttp import web
    from multidict import CIMultiDict

    assert isinstance(response.body, bytes)
    return web.Response(
        status=response.status,
        reason=response.reason,
        headers=CIMultiDict(response.headers),
        body=response.body,
    )


def _payload_errors() -> type[Exception]:
    from aiohttp.web import RequestPayloadError

    return RequestPayloadError


def _body_deadline(length: int | None, server: EdgeServer) -> float:
    """Time allowed for a body: the header deadline, plus a second per 64 KB declared (a slow
    but moving upload still makes it; one that stalls does not hold its slot forever)."""
    return server.header_timeout + (length or 0) / (64 * 1024)


async def _read_body(request: web.BaseRequest) -> bytes:
    if not request.body_exists:
        return b""
    parts: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ValueError("body too large")
        parts.append(chunk)
    return b"".join(parts)


def _rid() -> str:
    from edgeshield.cloudfront import new_request_id

    return new_request_id()
