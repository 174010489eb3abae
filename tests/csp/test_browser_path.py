"""Which browser the CSP commands run: a named one that is missing is an error, never a silent
fall-back to another Chromium (a CI job that pins its browser must not test with another)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeshield.csp.browser import BrowserMissing, chromium_path


def test_a_named_browser_that_is_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGESHIELD_CHROMIUM", str(tmp_path / "nope"))
    with pytest.raises(BrowserMissing, match=r"nope \(EDGESHIELD_CHROMIUM\)"):
        chromium_path()
    with pytest.raises(BrowserMissing, match=r"not found at .*other"):
        chromium_path(str(tmp_path / "other"))
    browser = tmp_path / "my-chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("EDGESHIELD_CHROMIUM", str(browser))
    assert chromium_path() == str(browser)
    browser.chmod(0o644)  # there, but not something that can run
    with pytest.raises(BrowserMissing):
        chromium_path()
