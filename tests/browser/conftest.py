"""Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright, found and
launched with the flags edgeshield's own browser pass uses (``edgeshield.csp.browser``).

Never a browser downloaded by a test tool. Without Chromium the tests skip with one line,
unless CI=true or EDGESHIELD_REQUIRE_BROWSER=1 (set by .ci/run), which turn the skip into a
failure (``tests/chromium.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from edgeshield.csp.browser import CHROMIUM_ARGS
from tests.chromium import require_chromium

if TYPE_CHECKING:  # Playwright is imported once Chromium is known to be there
    from playwright.sync_api import Browser, Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# Module scope, not session: Playwright's sync API keeps its event loop installed on the main
# thread while it is open, which would break every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # The local edge's --tls certificate comes from a local CA the browser does not know.
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def console(page: Page) -> list[str]:
    """The text of each message the page logs to its console, from before the test loads it."""
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(msg.text))
    return messages


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- servers: the local edge under test, and plain origins on other ports ---------------------

from tests.servers import Edge, StaticServer  # noqa: E402

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
OTHER = HERE / "other"


@pytest.fixture(scope="session")
def other_origin() -> Iterator[StaticServer]:
    server = StaticServer(OTHER)
    yield server
    server.close()


@pytest.fixture(scope="session")
def plain_site() -> Iterator[StaticServer]:
    """The test site straight from its origin: no edge, no headers."""
    server = StaticServer(SITE)
    yield server
    server.close()


class Edges(Protocol):
    """The ``edges`` fixture: the local edge serving ``origin`` under ``policy``."""

    def __call__(
        self, policy: str | None = None, origin: Path | None = SITE, tls: bool = False
    ) -> Edge: ...


@pytest.fixture(scope="session")
def edges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edges]:
    """Start (once per distinct policy) a local edge in front of the test site."""
    started: dict[tuple[str | None, str | None, bool], Edge] = {}

    def get(policy: str | None = None, origin: Path | None = SITE, tls: bool = False) -> Edge:
        key = (policy, str(origin) if origin else None, tls)
        if key not in started:
            extra = ("--tls",) if tls else ()
            started[key] = Edge(tmp_path_factory.mktemp("edge"), policy, origin, extra)
        return started[key]

    yield get
    for edge in started.values():
        edge.close()
