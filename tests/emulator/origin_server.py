"""A misbehaving-on-demand HTTP origin for the emulator tests, run as its own process:

    python origin_server.py PORT [--tls CERT KEY]

Routes: /echo (the request as JSON), /slow/<ms>, /reset, /huge-headers, /chunked,
/status/<code>, /cc/<cache-control>/<name> (ETag + 304 support), /big/<bytes>, /s3meta (an
S3 object with user metadata X-Amz-Meta-Last-Modified) and /__hits/<path> (how often <path>
was requested). Everything else: a small HTML page.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections import Counter
from urllib.parse import unquote

from aiohttp import web

HITS: Counter[str] = Counter()


async def handle(request: web.BaseRequest) -> web.StreamResponse:
    path = request.path
    if path.startswith("/__hits/"):
        return web.json_response({"hits": HITS["/" + path[len("/__hits/") :]]})
    HITS[path] += 1
    body = await request.read()
    if path.startswith("/echo"):
        return web.json_response(
            {
                "method": request.method,
                "path_qs": request.raw_path,
                "headers": [[k, v] for k, v in request.headers.items()],
                "body_length": len(body),
            },
            headers={"Cache-Control": "no-store"},
        )
    if path.startswith("/slow/"):
        await asyncio.sleep(int(path.split("/")[2]) / 1000)
        return web.Response(text="slow but here", headers={"Cache-Control": "no-store"})
    if path == "/reset":
        assert request.transport is not None
        request.transport.abort()
        return web.Response(text="never sent")
    if path == "/huge-headers":
        return web.Response(text="x", headers={"X-Huge": "a" * 40000})
    if path.startswith("/chunked"):
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"one ", b"two ", b"three"):
            await response.write(part)
        await response.write_eof()
        return response
    if path.startswith("/status/"):
        code = int(path.split("/")[2])
        return web.Response(status=code, text=f"status {code}")
    if path.startswith("/cc/"):
        directive = unquote(path.split("/")[2])
        headers = {"ETag": '"v1"', "Content-Type": "text/plain"}
        if directive != "none":
            headers["Cache-Control"] = directive
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers=headers)
        return web.Response(text=f"object {path} hit {HITS[path]}", headers=headers)
    if path.startswith("/s3meta"):
        return web.Response(
            text="object with metadata",
            headers={
                "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
                "X-Amz-Meta-Last-Modified": "Thu, 01 Feb 2024 12:00:00 GMT",
                "Cache-Control": "no-store",
            },
        )
    if path.startswith("/big/"):
        size = int(path.split("/")[2])
        return web.Response(body=b"b" * size, content_type="application/octet-stream")
    return web.Response(
        text="<!doctype html><title>origin</title><p>hello from the origin</p>",
        content_type="text/html",
        headers={"Server": "test-origin", "X-Powered-By": "tests"},
    )


def main() -> None:
    port = int(sys.argv[1])
    context = None
    if len(sys.argv) > 2 and sys.argv[2] == "--tls":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])

    async def serve() -> None:
        server = web.Server(handle, max_line_size=65536, max_field_size=65536)
        runner = web.ServerRunner(server)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
