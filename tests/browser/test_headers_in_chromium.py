"""What Chromium does with the headers the local edge adds: each protection under the strict
policy, and the same page under a policy weakened in exactly that respect, to show the test
can fail."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.servers import Edge, StaticServer, strict_with

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser.conftest import Edges

WAIT_MS = 5000


def marker(page: Page, name: str) -> str | None:
    value = page.evaluate(
        f"document.documentElement.dataset.{name} ?? document.body?.dataset.{name} ?? null"
    )
    return str(value) if value is not None else None


def load(page: Page, url: str) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_function("document.documentElement.dataset.external === 'ran'", timeout=WAIT_MS)


def test_csp_blocks_the_inline_script_of_the_demo_page(
    edges: Edges, page: Page, console: list[str], artifacts: Path
) -> None:
    edge = edges(origin=None)  # the embedded demo site, strict policy: exactly `make serve`
    page.goto(edge.url + "/", wait_until="load")
    page.wait_for_function(
        "document.getElementById('external-script').textContent.includes('ran')", timeout=WAIT_MS
    )
    inline = page.text_content("#inline-script")
    assert inline is not None and "blocked" in inline
    assert any("Content Security Policy" in m for m in console)
    page.screenshot(path=str(artifacts / "demo-strict.png"), full_page=True)


def test_csp_blocks_inline_script_only_behind_the_edge(
    edges: Edges, plain_site: StaticServer, page: Page
) -> None:
    load(page, edges().url + "/index.html")
    assert marker(page, "inline") is None
    load(page, plain_site.url + "/index.html")  # the same page straight from the origin
    assert marker(page, "inline") == "ran"


def test_weakened_csp_lets_the_inline_script_run(edges: Edges, page: Page) -> None:
    weak = strict_with('[[rules]]\nname = "weak"\ndrop = ["content-security-policy"]\n')
    load(page, edges(weak).url + "/index.html")
    assert marker(page, "inline") == "ran"


def test_report_only_lets_the_script_run(edges: Edges, page: Page, console: list[str]) -> None:
    report_only = strict_with(replace=('mode = "enforce"', 'mode = "report-only"'))
    load(page, edges(report_only).url + "/index.html")
    assert marker(page, "inline") == "ran"
    assert any("report-only" in m.lower() or "Report Only" in m for m in console)


def _framed(page: Page, other: StaticServer, target: str) -> bool:
    page.goto(f"{other.url}/frame.html?target={target}", wait_until="load")
    page.wait_for_timeout(500)
    frames = [f for f in page.frames if f != page.main_frame]
    assert len(frames) == 1
    try:
        return bool(frames[0].evaluate("document.documentElement.dataset.external === 'ran'"))
    except Exception:  # a refused frame holds Chromium's error page, or nothing at all
        return False


def test_another_origin_cannot_frame_the_page(
    edges: Edges, other_origin: StaticServer, page: Page
) -> None:
    assert not _framed(page, other_origin, edges().url + "/index.html")


@pytest.mark.parametrize("keep_xfo", [False, True])
def test_framing_allowed_when_the_policy_allows_it(
    edges: Edges, other_origin: StaticServer, page: Page, keep_xfo: bool
) -> None:
    """frame-ancestors naming the other origin lets it frame the page; Chromium then ignores
    X-Frame-Options, as CSP Level 2 says it should."""
    drop = '["x-frame-options"]' if not keep_xfo else "[]"
    policy = strict_with(
        "[[rules]]\nname = 'frameable'\n"
        f"drop = {drop}\n"
        f"set = {{ content-security-policy = \"default-src 'self'; frame-ancestors {other_origin.url}\" }}\n"
    )
    assert _framed(page, other_origin, edges(policy).url + "/index.html")


def test_nosniff_refuses_a_script_served_as_text_plain(edges: Edges, page: Page) -> None:
    load(page, edges().url + "/sniff.html")
    assert marker(page, "sniffed") is None
    weak = strict_with('[[rules]]\nname = "weak"\ndrop = ["x-content-type-options"]\n')
    load(page, edges(weak).url + "/sniff.html")
    assert marker(page, "sniffed") == "ran"


def _opener_seen_by_popup(page: Page, other: StaticServer, target: str) -> str | None:
    page.goto(f"{other.url}/opener.html?target={target}", wait_until="load")
    with page.context.expect_page() as popup_info:
        page.click("#open")
    popup = popup_info.value
    popup.wait_for_load_state("load")
    popup.wait_for_function(
        "document.documentElement.dataset.opener !== undefined", timeout=WAIT_MS
    )
    return marker(popup, "opener")


def test_coop_severs_window_opener_across_origins(
    edges: Edges, other_origin: StaticServer, page: Page
) -> None:
    assert _opener_seen_by_popup(page, other_origin, edges().url + "/popup.html") == "null"
    weak = strict_with('[[rules]]\nname = "weak"\ndrop = ["cross-origin-opener-policy"]\n')
    assert _opener_seen_by_popup(page, other_origin, edges(weak).url + "/popup.html") == "present"


def _geolocation(browser: Browser, url: str) -> str | None:
    context = browser.new_context(
        permissions=["geolocation"], geolocation={"latitude": 52.5, "longitude": 13.4}
    )
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function(
            "document.documentElement.dataset.geo !== undefined", timeout=WAIT_MS
        )
        return marker(page, "geo")
    finally:
        context.close()


def test_permissions_policy_denies_geolocation(edges: Edges, browser: Browser) -> None:
    assert _geolocation(browser, edges().url + "/geo.html") == "denied:1"
    weak = strict_with('[[rules]]\nname = "weak"\ndrop = ["permissions-policy"]\n')
    assert _geolocation(browser, edges(weak).url + "/geo.html") == "allowed"


def test_scan_report_renders(edges: Edges, page: Page, artifacts: Path, tmp_path: Path) -> None:
    """The self-contained HTML report of a scan of the local edge, as a person sees it."""
    import subprocess

    from tests.servers import EDGESHIELD

    report = tmp_path / "report.html"
    subprocess.run(
        [
            EDGESHIELD,
            "scan",
            edges(origin=None).url + "/",
            "--format",
            "html",
            "--output",
            str(report),
            "--timeout",
            "5",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri(), wait_until="load")
    assert requests == [report.as_uri()], "the report must not load anything else"
    assert "csp-implemented-with-no-unsafe-default-src-none" in page.content()
    page.screenshot(path=str(artifacts / "scan-report.png"), full_page=True)


def _violations(edge: Edge, timeout_s: float = 15.0) -> list[dict[str, Any]]:
    """CSP violations the local collector logged, waiting for the browser to send them."""
    import json
    import time

    from edgeshield.emulator.logstore import read_events

    deadline = time.monotonic() + timeout_s
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = []
        for event in read_events(
            edge.workdir / ".edgeshield" / "logs", groups=["/aws/lambda/edgeshield-csp-collector"]
        ):
            if '"csp-violation"' in event.message:
                found.append(json.loads(event.message))
        if found:
            return found
        time.sleep(0.25)
    return found


def test_violation_reaches_the_collector(edges: Edges, page: Page) -> None:
    # The demo site under the strict preset, over HTTPS as CloudFront serves it: Chromium sends
    # report-to reports only to HTTPS endpoints (and then ignores report-uri).
    edge = edges(origin=None, tls=True)
    page.goto(edge.url + "/", wait_until="load")
    violations = _violations(edge)
    inline = [
        v
        for v in violations
        if v["effective_directive"] == "script-src-elem" and v["blocked_uri"] == "inline"
    ]
    assert inline, violations
    assert inline[0]["disposition"] == "enforce"
    assert inline[0]["document_uri"] == edge.url + "/"


def test_report_only_reports_and_still_runs(edges: Edges, page: Page) -> None:
    report_only = strict_with(replace=('mode = "enforce"', 'mode = "report-only"'))
    edge = edges(report_only, tls=True)
    load(page, edge.url + "/index.html")
    assert marker(page, "inline") == "ran"
    violations = _violations(edge)
    assert any(
        v["effective_directive"] == "script-src-elem" and v["disposition"] == "report"
        for v in violations
    ), violations


def test_no_report_without_a_violation(edges: Edges, page: Page) -> None:
    """The weakened CSP allows everything on the page, so the collector hears nothing."""
    weak = strict_with('[[rules]]\nname = "weak"\ndrop = ["content-security-policy"]\n')
    edge = edges(weak, tls=True)
    load(page, edge.url + "/index.html")
    assert _violations(edge, timeout_s=3.0) == []


def test_report_uri_alone_works_over_plain_http(edges: Edges, page: Page) -> None:
    """Without report-to, Chromium posts application/csp-report to report-uri, even over http."""
    report_uri_only = strict_with(replace=('report-to = ["csp"]\n', ""))
    edge = edges(report_uri_only)
    page.goto(edge.url + "/index.html", wait_until="load")
    violations = _violations(edge)
    assert any(
        v["report_format"] == "csp-report" and v["effective_directive"] == "script-src-elem"
        for v in violations
    ), violations


def test_tutorial_allow_the_inline_script_by_its_hash(
    edges: Edges, page: Page, console: list[str], browser: Browser, artifacts: Path
) -> None:
    """docs/tutorial.md: copy the hash Chromium prints into script-src; the script runs, and
    the policy keeps its grade."""
    import re
    import subprocess

    from tests.servers import EDGESHIELD

    page.goto(edges(origin=None).url + "/", wait_until="load")
    page.wait_for_timeout(300)
    hashes = [m for text in console for m in re.findall(r"'(sha256-[A-Za-z0-9+/=]+)'", text)]
    assert hashes, console
    policy = strict_with(
        replace=("script-src = [\"'self'\"]", f"script-src = [\"'self'\", \"'{hashes[0]}'\"]")
    )
    edge = edges(policy, origin=None)
    context = browser.new_context()
    try:
        fresh = context.new_page()
        fresh.goto(edge.url + "/", wait_until="load")
        fresh.wait_for_function(
            "document.getElementById('inline-script').textContent.includes('ran')", timeout=WAIT_MS
        )
        fresh.screenshot(path=str(artifacts / "demo-hash-allowed.png"), full_page=True)
    finally:
        context.close()
    graded = subprocess.run(
        [EDGESHIELD, "check", "--grade", "--json", str(edge.workdir / "edgeshield.toml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    import json

    report = json.loads(graded.stdout)
    assert (report["grade"]["score"], report["grade"]["grade"]) == (150, "A+")
