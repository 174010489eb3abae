"""Real local servers for the scanner tests: plain HTTP, an http->https redirector and a TLS
server whose certificate comes from a throwaway CA (trustme). All bound to 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from aiohttp import web

STRICT_CSP = (
    "default-src 'none'; script-src 'self' https://cdn.example.net; style-src 'self'; "
    "img-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
GOOD_HEADERS = {
    "Content-Security-Policy": STRICT_CSP,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PAGE_WITH_SRI = """<!doctype html><html><head><title>ok</title>
<script src="/app.js" integrity="sha384-abc" crossorigin="anonymous"></script>
<script src="https://cdn.example.net/lib.js" integrity="sha384-def" crossorigin></script>
</head><body><script>console.log(1)</script></body></html>"""
PAGE_WITHOUT_SRI = """<!doctype html><html><head>
<script src="https://cdn.example.net/lib.js"></script></head><body></body></html>"""
PAGE_INSECURE_SCRIPT = """<!doctype html><html><head>
<script src="http://cdn.example.net/lib.js"></script></head><body></body></html>"""


def _html(body: str, headers: dict[str, str]) -> web.Response:
    return web.Response(text=body, content_type="text/html", headers=headers)


def tls_app() -> web.Application:
    async def index(_req: web.Request) -> web.Response:
        resp = _html(PAGE_WITH_SRI, GOOD_HEADERS)
        resp.set_cookie("sessionid", "s1", secure=True, httponly=True, samesite="Lax")
        return resp

    async def nosri(_req: web.Request) -> web.Response:
        return _html(PAGE_WITHOUT_SRI, GOOD_HEADERS)

    async def insecure_script(_req: web.Request) -> web.Response:
        return _html(PAGE_INSECURE_SCRIPT, GOOD_HEADERS)

    async def cors_reflect(req: web.Request) -> web.Response:
        # Echoes any Origin and allows credentials: the CORS mistake the grader punishes.
        origin = req.headers.get("Origin", "")
        return web.Response(
            text="" if req.method == "OPTIONS" else PAGE_WITH_SRI,
            content_type="text/html",
            headers={
                **GOOD_HEADERS,
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true",
            },
        )

    async def big(req: web.Request) -> web.StreamResponse:
        # ~1.5 MB streamed in small chunks; the only script comes last.
        resp = web.StreamResponse(headers={**GOOD_HEADERS, "Content-Type": "text/html"})
        await resp.prepare(req)
        await resp.write(b"<html><body>")
        for _ in range(1500):
            await resp.write(b"<p>" + b"x" * 1000 + b"</p>")
        await resp.write(b'<script src="http://cdn.example.net/late.js"></script></body></html>')
        await resp.write_eof()
        return resp

    async def down(_req: web.Request) -> web.Response:
        return web.Response(status=503, text="down")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/nosri", nosri)
    app.router.add_get("/insecure-script", insecure_script)
    app.router.add_route("*", "/cors", cors_reflect)
    app.router.add_get("/down", down)
    app.router.add_get("/big", big)
    return app


def bad_app() -> web.Application:
    async def index(_req: web.Request) -> web.Response:
        resp = web.Response(
            text="<html><body><script src='//cdn.example.net/x.js'></script></body></html>",
            content_type="text/html",
        )
        resp.headers["Content-Security-Policy"] = "default-src * 'unsafe-inline'"
        resp.headers.add("X-Frame-Options", "SAMEORIGIN")
        resp.headers.add("X-Frame-Options", "SAMEORIGIN")
        resp.headers["Set-Cookie"] = "PHPSESSID=abc; Path=/"
        resp.headers["Referrer-Policy"] = "unsafe-url"
        return resp

    app = web.Application()
    app.router.add_get("/", index)
    return app


def redirector_app(target_base: str) -> web.Application:
    async def redirect(req: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(target_base + req.path_qs)

    app = web.Application()
    app.router.add_get("/{tail:.*}", redirect)
    return app


class ServerLoop:
    """An event loop on a thread, so blocking code (the CLI's asyncio.run) can be tested."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners: list[web.AppRunner] = []

    def serve(self, app: web.Application, ssl_context: ssl.SSLContext | None = None) -> int:
        async def start() -> int:
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
            await site.start()
            self.runners.append(runner)
            return int(runner.addresses[0][1])

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def close(self) -> None:
        async def stop() -> None:
            for r in self.runners:
                await r.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sites:
    tls_port: int
    bad_port: int
    redirect_port: int  # http -> https://127.0.0.1:tls_port (same host)
    offhost_port: int  # http -> https://localhost:tls_port (another host)
    closed_port: int
    ca_file: Path


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    servers = ServerLoop()
    try:
        tls_port = servers.serve(tls_app(), server_ctx)
        yield Sites(
            tls_port=tls_port,
            bad_port=servers.serve(bad_app()),
            redirect_port=servers.serve(redirector_app(f"https://127.0.0.1:{tls_port}")),
            offhost_port=servers.serve(redirector_app(f"https://localhost:{tls_port}")),
            closed_port=free_port(),
            ca_file=ca_file,
        )
    finally:
        servers.close()
