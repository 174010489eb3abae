"""Debian's Chromium for the browser tests, found the way edgeshield itself finds it
(``edgeshield.csp.browser.chromium_path``: EDGESHIELD_CHROMIUM, else /usr/bin/chromium, else
``chromium`` on PATH). Never a browser downloaded by a test tool.

Without Chromium a test skips with one line, unless CI=true or EDGESHIELD_REQUIRE_BROWSER=1
(set by .ci/run), which turn the skip into a failure: an oracle CI depends on must be there.
"""

from __future__ import annotations

import os

import pytest

from edgeshield.csp.browser import BrowserMissing, chromium_path


def require_chromium() -> str:
    """The Chromium executable; skips (or, under CI, fails) the test without one."""
    try:
        return chromium_path()
    except BrowserMissing as exc:
        if os.environ.get("EDGESHIELD_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true":
            pytest.fail(f"{exc} — required under CI / EDGESHIELD_REQUIRE_BROWSER=1")
        pytest.skip(str(exc))
