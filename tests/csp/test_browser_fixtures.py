"""Shared set-up for the CSP browser tests: Chromium (required under CI), the CLI, and a small
hand-written site whose inline code, attributes and run-time insertions are all known.

Chromium is Debian's /usr/bin/chromium. Without it the tests skip with one line, unless
EDGESHIELD_REQUIRE_BROWSER=1 or CI=true, which turns the skip into a failure
(``tests/chromium.py``, shared with tests/browser).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.chromium import require_chromium

if TYPE_CHECKING:
    from playwright.async_api import Page

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))


@pytest.fixture(scope="session")
def chromium() -> str:
    return require_chromium()


def cli(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EDGESHIELD, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


MINI_INDEX = """<!doctype html>
<html><head><title>Mini site</title>
<style>body{color:#222}</style>
<script>document.documentElement.dataset.inline='ran'</script>
</head>
<body>
<p style="color: blue">hello</p>
<button id="b" onclick="this.textContent='clicked'">b</button>
<a id="js" href="javascript:void(0)">js</a>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">
<script src="app.js"></script>
<a href="sub/page.html">sub</a>
</body></html>
"""
# Everything app.js does exists only at run time: static analysis cannot see it.
MINI_APP = """const s = document.createElement('style');
s.textContent = '.made-at-run-time{color:green}';
document.head.appendChild(s);
document.body.setAttribute('style', 'margin: 0');
document.documentElement.dataset.app = 'ran';
"""
MINI_SUB = "<!doctype html><html><head><title>Sub</title></head><body><p>plain</p></body></html>\n"


def write_mini_site(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text(MINI_INDEX)
    (root / "app.js").write_text(MINI_APP)
    (root / "sub" / "page.html").write_text(MINI_SUB)
    return root


def fitted_policy(path: Path, csp: str) -> Path:
    """The strict preset with its CSP replaced by ``csp`` (a rule that sets it everywhere)."""
    from edgeshield.policy import preset_text

    quoted = csp.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(
        preset_text("strict")
        + f'\n[[rules]]\nname = "fitted"\nset = {{ content-security-policy = "{quoted}" }}\n'
    )
    return path


def poll_js(page: Page, expression: str, timeout_s: float = 10.0) -> Coroutine[Any, Any, Any]:
    """An awaitable that polls ``expression`` with page.evaluate (over CDP, outside the page's
    CSP) until it is truthy; never wait_for_function, which a strict CSP refuses."""
    import asyncio
    import time

    async def run() -> Any:
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = await page.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        return value

    return run()
