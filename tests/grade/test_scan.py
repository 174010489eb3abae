"""The live scanner against real servers on 127.0.0.1 (plain, redirector, TLS with a test CA)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edgeshield.cli import app
from edgeshield.grade.scan.scanner import ScanFailed, ScanOptions, scan
from tests.grade.conftest import Sites

runner = CliRunner()


def _opts(sites: Sites, **kw: Any) -> ScanOptions:
    base: dict[str, Any] = {
        "ca_file": str(sites.ca_file),
        "http_port": sites.redirect_port,
        "timeout": 5.0,
    }
    base.update(kw)
    return ScanOptions(**base)


def test_well_configured_tls_site(sites: Sites) -> None:
    report = scan(f"https://127.0.0.1:{sites.tls_port}/", _opts(sites))
    tests = {name: o.result for name, o in report.tests.items()}
    assert tests["redirection"] == "redirection-to-https"
    assert tests["strict-transport-security"] == "hsts-implemented-max-age-at-least-six-months"
    assert tests["content-security-policy"] == "csp-implemented-with-no-unsafe-default-src-none"
    # The site's own script with integrity sets the result first; the CDN one keeps it.
    assert tests["subresource-integrity"] == "sri-implemented-and-all-scripts-loaded-securely"
    assert tests["cookies"] == "cookies-secure-with-httponly-sessions-and-samesite"
    assert tests["cross-origin-resource-sharing"] == "cross-origin-resource-sharing-not-implemented"
    assert not report.header_only
    assert all(o.assumed is None for o in report.outcomes)
    # 100 + CSP 10 + cookies 5 + referrer 5 + SRI 5 + XFO(via CSP) 5 + CORP 10 + COOP 10
    assert (report.score, report.grade) == (150, "A+")


def test_redirect_route_is_recorded(sites: Sites) -> None:
    report = scan(f"https://127.0.0.1:{sites.tls_port}/nosri", _opts(sites))
    redirect = report.tests["redirection"]
    assert redirect.data is not None
    assert redirect.data["route"] == [
        f"http://127.0.0.1:{sites.redirect_port}/nosri",
        f"https://127.0.0.1:{sites.tls_port}/nosri",
    ]
    sri = report.tests["subresource-integrity"]
    assert sri.result == "sri-not-implemented-but-external-scripts-loaded-securely"
    assert report.score == 100 + 10 + 5 + 5 + 10 + 10 - 5  # cookies none, SRI -5


def test_external_script_over_http(sites: Sites) -> None:
    report = scan(f"https://127.0.0.1:{sites.tls_port}/insecure-script", _opts(sites))
    assert (
        report.tests["subresource-integrity"].result
        == "sri-not-implemented-and-external-scripts-not-loaded-securely"
    )
    assert report.grade == "C"  # 100 - 50, and the bonuses are dropped


def test_whole_body_is_read(sites: Sites) -> None:
    report = scan(f"https://127.0.0.1:{sites.tls_port}/big", _opts(sites))
    assert (
        report.tests["subresource-integrity"].result
        == "sri-not-implemented-and-external-scripts-not-loaded-securely"
    )


def test_off_host_redirect(sites: Sites) -> None:
    report = scan(
        f"https://127.0.0.1:{sites.tls_port}/", _opts(sites, http_port=sites.offhost_port)
    )
    assert report.tests["redirection"].result == "redirection-off-host-from-http"


def test_reflected_cors_with_credentials(sites: Sites) -> None:
    report = scan(f"https://127.0.0.1:{sites.tls_port}/cors", _opts(sites))
    cors = report.tests["cross-origin-resource-sharing"]
    assert cors.result == "cross-origin-resource-sharing-implemented-with-universal-access"
    assert cors.passed is False


def test_untrusted_certificate_is_graded_invalid(sites: Sites) -> None:
    report = scan(f"https://127.0.0.1:{sites.tls_port}/", _opts(sites, ca_file=None))
    assert report.tests["strict-transport-security"].result == "hsts-invalid-cert"
    assert report.tests["redirection"].result == "redirection-invalid-cert"


def test_insecure_grades_the_certificate_as_valid(sites: Sites) -> None:
    report = scan(f"https://127.0.0.1:{sites.tls_port}/", _opts(sites, ca_file=None, insecure=True))
    assert (
        report.tests["strict-transport-security"].result
        == "hsts-implemented-max-age-at-least-six-months"
    )


def test_plain_http_site_with_bad_headers(sites: Sites) -> None:
    report = scan(
        f"http://127.0.0.1:{sites.bad_port}/",
        ScanOptions(https_port=sites.closed_port, timeout=5.0),
    )
    tests = {name: o.result for name, o in report.tests.items()}
    assert tests == {
        "content-security-policy": "csp-implemented-with-unsafe-inline",
        "cookies": "cookies-session-without-secure-flag",
        "cross-origin-resource-sharing": "cross-origin-resource-sharing-not-implemented",
        "redirection": "redirection-missing",
        "referrer-policy": "referrer-policy-unsafe",
        "strict-transport-security": "hsts-not-implemented-no-https",
        "subresource-integrity": "sri-not-implemented-and-external-scripts-not-loaded-securely",
        "x-content-type-options": "x-content-type-options-not-implemented",
        "x-frame-options": "x-frame-options-header-invalid",  # sent twice
        "cross-origin-resource-policy": "corp-not-implemented",
        "cross-origin-opener-policy": "coop-not-implemented",
        "cross-origin-embedder-policy": "coep-not-implemented",
    }
    assert (report.score, report.grade) == (0, "F")


def test_error_status_cannot_be_graded(sites: Sites) -> None:
    with pytest.raises(ScanFailed, match="503"):
        scan(f"https://127.0.0.1:{sites.tls_port}/down", _opts(sites))


def test_nothing_listening(sites: Sites) -> None:
    with pytest.raises(
        ScanFailed, match=r"no readable answer on https:// \(.+\) or http:// \(.+\)"
    ):
        scan(
            f"https://127.0.0.1:{sites.closed_port}/",
            ScanOptions(http_port=sites.closed_port, timeout=2.0),
        )


# --- the CLI --------------------------------------------------------------------------


def _scan_cli(sites: Sites, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        [
            "scan",
            "--ca-file",
            str(sites.ca_file),
            "--http-port",
            str(sites.redirect_port),
            "--timeout",
            "5",
            *args,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def test_cli_min_grade_passes_and_fails(sites: Sites) -> None:
    good = f"https://127.0.0.1:{sites.tls_port}/"
    bad = f"https://127.0.0.1:{sites.tls_port}/insecure-script"
    code, out, _ = _scan_cli(sites, good, "--min-grade", "A+", "--format", "json")
    assert code == 0
    assert json.loads(out)[0]["grade"] == "A+"
    code, out, err = _scan_cli(sites, good, bad, "--min-grade", "B", "--format", "json")
    assert code == 1
    assert [r["grade"] for r in json.loads(out)] == ["A+", "C"]
    assert "below the required B" in err
    assert "[1/2]" in err and "[2/2]" in err  # plain progress lines when not on a terminal
    code, _, _ = _scan_cli(sites, bad, "--min-grade", "C")
    assert code == 0


def test_cli_rejects_a_bad_grade_and_url(sites: Sites) -> None:
    code, _, err = _scan_cli(sites, "https://127.0.0.1/", "--min-grade", "Z")
    assert code == 2 and "not a grade" in err
    code, _, err = _scan_cli(sites, "ftp://example.com/")
    assert code == 2 and "only http:// and https://" in err
    code, _, err = _scan_cli(sites, "https://127.0.0.1/", "--ca-file", "/nonexistent/ca.pem")
    assert code == 2 and "--ca-file" in err
    code, _, err = _scan_cli(sites, "https://127.0.0.1/", "--output", "x.txt")
    assert code == 2 and "--output needs" in err


def test_cli_html_report_is_self_contained(sites: Sites, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    code, _, _ = _scan_cli(
        sites,
        f"https://127.0.0.1:{sites.tls_port}/",
        f"https://127.0.0.1:{sites.tls_port}/insecure-script",
        f"https://127.0.0.1:{sites.tls_port}/down",
        "--format",
        "html",
        "--output",
        str(page),
    )
    assert code == 0  # one site failed, but there is no --min-grade
    html = page.read_text()
    assert html.startswith("<!doctype html>")
    assert "<style>" in html and "A+" in html and "HTTP status 503" in html
    # Nothing that a browser would fetch: no external stylesheets, scripts, images or links.
    assert not re.search(r"<(link|script|img|iframe)\b", html, re.IGNORECASE)
    assert not re.search(r"""(href|src)\s*=\s*["']?(https?:)?//""", html, re.IGNORECASE)
    assert "[headers" in html  # the fixes come with a policy snippet


def test_cli_table_output_shows_fixes(sites: Sites) -> None:
    code, out, _ = _scan_cli(sites, f"https://127.0.0.1:{sites.tls_port}/nosri")
    assert code == 0
    assert "How to improve" in out
    assert "Subresource Integrity: Add integrity=" in out
    assert "Grade A+, score 135" in out


def test_cli_progress_bar_on_a_terminal(sites: Sites, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from edgeshield.cli import grade_cmds

    buf = io.StringIO()
    monkeypatch.setattr(grade_cmds, "err", Console(file=buf, force_terminal=True, width=80))
    urls = [f"https://127.0.0.1:{sites.tls_port}/", f"https://127.0.0.1:{sites.tls_port}/nosri"]
    code, out, _ = _scan_cli(sites, *urls, "--format", "json", "--concurrency", "2")
    assert code == 0
    assert [r["grade"] for r in json.loads(out)] == ["A+", "A+"]
    assert "scanning" in buf.getvalue()  # the rich progress bar drew on the "terminal"


def test_a_malformed_answer_is_named_and_shown_escaped() -> None:
    """A server that answers with a broken status line did answer: the failure says what was
    wrong on each side, and the server's bytes reach the terminal escaped."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def answer() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 2\x1b[31m0 OK\r\n\r\n")
                except OSError:
                    pass

    threading.Thread(target=answer, daemon=True).start()
    try:
        result = runner.invoke(
            app,
            ["scan", f"https://127.0.0.1:{port}/", "--http-port", str(port), "--timeout", "3"],
        )
    finally:
        listener.close()
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.stderr
    assert "no readable answer on https:// (" in result.stderr
    assert "or http:// (" in result.stderr and "\\x1b" in result.stderr
