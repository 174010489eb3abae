"""The seam for paths another cache behavior serves in production (e.g. the CSP report
collector): a local route answers them without the origin or any function."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from aiohttp import web

from edgeshield.emulator.config import Prepared
from edgeshield.emulator.http.server import LocalRoute
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.runner import ServeConfig, prepare, start


def test_local_route_answers_without_the_edge(tmp_path: Path) -> None:
    received: list[bytes] = []

    async def collector(request: web.BaseRequest) -> web.StreamResponse:
        received.append(await request.read())
        return web.Response(status=204)

    async def scenario() -> tuple[int, int, str | None]:
        config = ServeConfig(
            port=0,
            cwd=tmp_path,
            access_log=None,
            local_routes={"/_edgeshield/csp-report": collector},
        )
        running = await start(prepare(config))
        try:
            async with aiohttp.ClientSession() as session:
                report = await session.post(
                    f"{running.url}_edgeshield/csp-report", data=b'{"csp-report": {}}'
                )
                page = await session.get(f"{running.url}index.html")
                await page.read()
                return report.status, page.status, page.headers.get("X-Cache")
        finally:
            await running.close()

    report_status, page_status, x_cache = asyncio.run(scenario())
    assert report_status == 204
    assert received == [b'{"csp-report": {}}']
    assert page_status == 200 and x_cache == "Miss from cloudfront"


class _Extension:
    label = "route      /_ext/hello (test extension)"

    def __init__(self) -> None:
        self.events: list[str] = []

    async def start(self, prepared: Prepared, logs: LogStore) -> dict[str, LocalRoute]:
        self.events.append("start")

        async def hello(request: web.BaseRequest) -> web.StreamResponse:
            return web.Response(text="hello from the extension")

        return {"/_ext/hello": hello}

    async def close(self) -> None:
        self.events.append("close")


def test_extensions_start_and_stop_with_the_edge(tmp_path: Path) -> None:
    extension = _Extension()

    async def scenario() -> str:
        config = ServeConfig(port=0, cwd=tmp_path, access_log=None, extensions=[extension])
        running = await start(prepare(config))
        try:
            async with aiohttp.ClientSession() as session:
                reply = await session.get(f"{running.url}_ext/hello")
                return await reply.text()
        finally:
            await running.close()

    assert asyncio.run(scenario()) == "hello from the extension"
    assert extension.events == ["start", "close"]
