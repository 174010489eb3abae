"""An origin that answers with a status CloudFront cannot pass on (outside 200-599), or with a
status line that is not HTTP, gets CloudFront's 502, with a page that says the origin's
response was invalid rather than that the origin could not be reached. A real HttpOrigin talks to a raw server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edgeshield.cloudfront import custom_origin
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.pipeline import (
    Edge,
    EdgeResponse,
    EdgeSettings,
    OriginSetup,
    ViewerRequest,
)
from edgeshield.emulator.pipeline.answers import PAGE_CONNECT, PAGE_INVALID_RESPONSE
from edgeshield.emulator.pipeline.origin_fetch import CustomTarget, HttpOrigin, OriginTimeouts
from edgeshield.emulator.stats import Stats


async def _through_edge(tmp_path: Path, status_line: bytes) -> tuple[EdgeResponse, Stats]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(status_line + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = HttpOrigin(OriginTimeouts(connect=2.0, attempts=1, read=5.0))
    await http.start()
    stats = Stats()
    try:
        edge = Edge(
            EdgeSettings(pop="IAD89-C1", region="us-east-1"),
            OriginSetup(
                custom_origin("localhost", port=port, protocol="http"),
                target=CustomTarget("http", "localhost", port, connect_host="127.0.0.1"),
            ),
            {},
            LogStore(tmp_path),
            http,
            stats,
        )
        viewer = ViewerRequest("GET", "/", "", [("Host", "d1.cloudfront.net")], b"", "192.0.2.1")
        return await edge.handle(viewer), stats
    finally:
        await http.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "status",
    [b"HTTP/1.1 999 Odd", b"HTTP/1.1 600 Just Past", b"HTTP/1.1 2x0 Huh", b"SPDY/9 200 OK"],
)
def test_a_status_cloudfront_cannot_pass_on_is_a_502_that_says_so(
    tmp_path: Path, status: bytes
) -> None:
    response, stats = asyncio.run(_through_edge(tmp_path, status))

    assert (response.status, response.x_cache) == (502, "Error")
    assert isinstance(response.body, bytes)
    assert PAGE_INVALID_RESPONSE.encode() in response.body
    assert PAGE_CONNECT.encode() not in response.body
    assert stats.errors["origin-invalid"] == 1


def test_an_ordinary_status_goes_through(tmp_path: Path) -> None:
    response, stats = asyncio.run(_through_edge(tmp_path, b"HTTP/1.1 200 OK"))

    assert (response.status, response.x_cache, response.body) == (200, "Miss", b"hi")
    assert not stats.errors
