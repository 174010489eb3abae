"""Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright.

Never a browser downloaded by a test tool. Without Chromium the tests skip with one line,
unless EDGESHIELD_REQUIRE_BROWSER=1 (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("EDGESHIELD_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Flags for a root, headless, offline machine: no sandbox (root), and no background traffic,
# which this machine's closed network would refuse many times per start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium_path() -> str | None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = _chromium_path()
    if path is None:
        message = f"Chromium not found at {CHROMIUM}; run `make browser` (apt install chromium)"
        if os.environ.get("EDGESHIELD_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " — EDGESHIELD_REQUIRE_BROWSER=1 makes this a failure")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.console_messages = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: page.console_messages.append(msg.text))  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- servers: the local edge under test, and plain origins on other ports ---------------------

import http.server  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402

from edgeshield.policy import preset_text  # noqa: E402

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
OTHER = HERE / "other"
EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))
_BANNER = re.compile(r"local CloudFront edge at (http://127\.0\.0\.1:\d+)/")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer:
    """A plain HTTP server for a folder on 127.0.0.1: another origin, no edge in front."""

    def __init__(self, folder: Path) -> None:
        handler = partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Edge:
    """`edgeshield serve` as a user starts it, in its own working directory."""

    def __init__(self, workdir: Path, policy: str | None, origin: Path | None) -> None:
        self.workdir = workdir
        args = [EDGESHIELD, "serve", "--port", "0", "--no-cache", "--quiet"]
        if origin is not None:
            args += ["--origin", str(origin)]
        if policy is not None:
            (workdir / "edgeshield.toml").write_text(policy)
            args += ["--policy", "edgeshield.toml"]
        self.proc = subprocess.Popen(
            args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.url = self._wait_for_banner()

    def _wait_for_banner(self) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = _BANNER.search(line)
            if match:
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # keep draining
                return match.group(1)
        self.close()
        raise RuntimeError("edgeshield serve did not start:\n" + "".join(seen))

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def strict_with(extra: str = "", replace: tuple[str, str] | None = None) -> str:
    """The strict preset, optionally weakened by a trailing rule or a text replacement."""
    text = preset_text("strict")
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return text + "\n" + extra


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


@pytest.fixture(scope="session")
def edges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Start (once per distinct policy) a local edge in front of the test site."""
    started: dict[tuple[str | None, str | None], Edge] = {}

    def get(policy: str | None = None, origin: Path | None = SITE) -> Edge:
        key = (policy, str(origin) if origin else None)
        if key not in started:
            started[key] = Edge(tmp_path_factory.mktemp("edge"), policy, origin)
        return started[key]

    yield get
    for edge in started.values():
        edge.close()
