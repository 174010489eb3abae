"""aiohttp's low-level server, answering what its parser rejects the way CloudFront does.

aiohttp turns a request it cannot parse (``GET / HTTP/9.9``, broken chunking, a header line
over its limit) into a plain-text 400 and logs it with a full traceback through the
``aiohttp.server`` logger: on ``serve``'s console that reads like a crash, and the viewer
gets an answer no CloudFront edge would give. ``GuardedServer`` hands those requests to a
callback instead, which builds CloudFront's error page and logs one line. Everything else
(including aiohttp's 500 for a bug in our own handler, which deserves its traceback) keeps
aiohttp's behaviour.

An HTTP/0.9 request is one line, ``GET /path`` and CRLF, with no headers and so no empty line
after them: aiohttp's parser would wait for that empty line until the header deadline. The
handler watches a connection's first line, and when it is a request line without a version
and nothing follows it, it ends the header block itself, so the request is answered at once
(with CloudFront's 400, see ``EdgeServer``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

# (request aiohttp made for the broken message, the parser's error) -> the answer to send
BadRequestHandler = Callable[[web.BaseRequest, HttpProcessingError], web.StreamResponse]
# A request line without an HTTP version (method, one space, a target without spaces).
_HTTP09_LINE: Final = re.compile(rb"[!-~]+ [!-~]+\r?\n")
_FIRST_LINE_LIMIT: Final = 64 * 1024  # longer first lines are the parser's business (413)


class GuardedServer(web.Server):
    """``web.Server`` whose connections send parser errors to ``on_bad_request``."""

    def __init__(self, handler: Any, *, on_bad_request: BadRequestHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.on_bad_request = on_bad_request

    def __call__(self) -> web.RequestHandler:
        return _GuardedHandler(self, loop=self._loop, **self._kwargs)


class _GuardedHandler(web.RequestHandler):
    _first_line: bytes | None = b""  # the connection's first bytes, until its first newline

    def data_received(self, data: bytes) -> None:
        first = self._first_line
        if first is not None:
            first += data
            end = first.find(b"\n")
            if end >= 0 or len(first) > _FIRST_LINE_LIMIT:
                self._first_line = None
                if end == len(first) - 1 and _HTTP09_LINE.fullmatch(first):
                    # HTTP/0.9: no headers will come, so no empty line either.
                    data += b"\r\n"
            else:
                self._first_line = first
        super().data_received(data)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        manager = self._manager
        if not isinstance(exc, HttpProcessingError) or not isinstance(manager, GuardedServer):
            return super().handle_error(request, status, exc, message)
        if request.writer.output_size > 0:  # a response is already on the wire
            raise ConnectionError("the request failed after its response began")
        response = manager.on_bad_request(request, exc)
        response.force_close()  # the rest of the stream cannot be trusted to frame requests
        return response
