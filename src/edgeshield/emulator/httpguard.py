"""aiohttp's low-level server, answering what its parser rejects the way CloudFront does.

aiohttp turns a request it cannot parse (``GET / HTTP/9.9``, broken chunking, a header line
over its limit) into a plain-text 400 and logs it with a full traceback through the
``aiohttp.server`` logger: on ``serve``'s console that reads like a crash, and the viewer
gets an answer no CloudFront edge would give. ``GuardedServer`` hands those requests to a
callback instead, which builds CloudFront's error page and logs one line. Everything else
(including aiohttp's 500 for a bug in our own handler, which deserves its traceback) keeps
aiohttp's behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

# (request aiohttp made for the broken message, the parser's error) -> the answer to send
BadRequestHandler = Callable[[web.BaseRequest, HttpProcessingError], web.StreamResponse]


class GuardedServer(web.Server):
    """``web.Server`` whose connections send parser errors to ``on_bad_request``."""

    def __init__(self, handler: Any, *, on_bad_request: BadRequestHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.on_bad_request = on_bad_request

    def __call__(self) -> web.RequestHandler:
        return _GuardedHandler(self, loop=self._loop, **self._kwargs)


class _GuardedHandler(web.RequestHandler):
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
