"""``csp verify`` and ``csp fit --crawl`` in Debian's Chromium on a site whose every inline
piece is known: the strict preset fails with each violation located, the static fit misses
exactly what JavaScript creates at run time, the crawl adds it, and verify then passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeshield.csp.browser import source_hash
from edgeshield.csp.crawl import crawl_site
from edgeshield.csp.verify import html_pages, verify_site
from tests.csp.test_browser_fixtures import (
    MINI_APP,
    chromium,  # noqa: F401  (fixture)
    cli,
    fitted_policy,
    write_mini_site,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium")]

RUNTIME_STYLE = source_hash(".made-at-run-time{color:green}")
RUNTIME_ATTR = source_hash("margin: 0")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mini_site(tmp_path_factory.mktemp("mini"))


def test_pages_are_every_html_file_index_first(site: Path) -> None:
    assert html_pages(site) == ["/index.html", "/sub/page.html"]


def test_strict_preset_fails_with_each_violation_located(site: Path) -> None:
    report = verify_site(site)
    assert not report.ok and report.errors == []
    found = {(v.directive, v.source, tuple(v.hashes())) for v in report.violations}
    assert (
        "script-src-elem",
        "/index.html:4:9",
        (source_hash("document.documentElement.dataset.inline='ran'"),),
    ) in found
    assert ("style-src-elem", "/index.html:3:8", (source_hash("body{color:#222}"),)) in found
    assert ("style-src-attr", "/index.html:7:24", (source_hash("color: blue"),)) in found
    assert any(
        v.directive == "img-src" and v.blocked == "data" and v.source.startswith("/index.html:")
        for v in report.violations
    )
    # Created by app.js: located in the script, hashed from the DOM.
    assert ("style-src-elem", "/app.js:3:15", (RUNTIME_STYLE,)) in found
    assert any(
        v.directive == "style-src-attr" and v.hashes() == [RUNTIME_ATTR] for v in report.violations
    )
    handler = next(v for v in report.violations if v.directive == "script-src-attr")
    assert handler.element == "button"
    assert handler.hashes() == [source_hash("this.textContent='clicked'")]
    assert set(report.pages) == {"/index.html", "/sub/page.html"}


def test_fit_then_crawl_then_verify_passes(site: Path, tmp_path: Path) -> None:
    policy = tmp_path / "edgeshield.toml"
    static = cli("csp", "fit", "--origin", str(site), "--output", str(policy), "--json")
    assert static.returncode == 0, static.stderr
    # The static fit cannot know what app.js creates: verify still fails, on exactly that.
    report = verify_site(site, policy)
    assert {v.source.split(":")[0] for v in report.violations} == {"/app.js"}
    assert {h for v in report.violations for h in v.hashes()} == {RUNTIME_STYLE, RUNTIME_ATTR}

    crawled = cli("csp", "fit", "--origin", str(site), "--output", str(policy), "--crawl", "--json")
    assert crawled.returncode == 0, crawled.stderr
    crawl = json.loads(crawled.stdout)["crawl"]
    added = {(a["directive"], a["source"]) for a in crawl["additions"]}
    assert added == {
        ("style-src", RUNTIME_STYLE),
        ("style-src", RUNTIME_ATTR),
        ("style-src", "'unsafe-hashes'"),
    }
    assert all(
        "run time" in a["reason"] and a["location"].startswith("/app.js:")
        for a in crawl["additions"]
    )
    assert crawl["stopped"] == "done" and set(crawl["pages"]) == {"/index.html", "/sub/page.html"}

    gate = cli("csp", "verify", "--origin", str(site), "--policy", str(policy), "--format", "json")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    result = json.loads(gate.stdout)
    assert result["ok"] and result["violations"] == [] and result["pages_checked"] == 2


def test_crawl_is_bounded_by_pages(site: Path) -> None:
    from edgeshield.csp.crawl import CrawlLimits

    result = crawl_site(site, "default-src 'self'", limits=CrawlLimits(max_pages=1, interact=False))
    assert result.pages == ["/index.html"] and result.stopped == "pages"


def test_cli_exit_codes_and_table(site: Path, tmp_path: Path) -> None:
    failed = cli("csp", "verify", "--origin", str(site), "--pages", "1")
    assert failed.returncode == 1
    assert "FAILED" in failed.stdout and "1 of 2" in failed.stdout
    assert "style-src-attr" in failed.stdout
    assert cli("csp", "verify", "--origin", str(tmp_path / "missing")).returncode == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[headers]\nx-frame-options = 'ALLOW-FROM x'\n")
    broken = cli("csp", "verify", "--origin", str(site), "--policy", str(bad))
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert "bad.toml" in broken.stderr


def test_a_fitted_rule_csp_verifies_clean(site: Path, tmp_path: Path) -> None:
    """verify enforces a policy exactly as serve does, rules included."""
    script = ["document.documentElement.dataset.inline='ran'", "this.textContent='clicked'"]
    script.append("javascript:void(0)")  # Chromium hashes the whole URL, scheme included
    style = ["body{color:#222}", "color: blue", ".made-at-run-time{color:green}", "margin: 0"]
    csp = (
        "default-src 'none'; script-src 'self' 'unsafe-hashes' "
        + " ".join(source_hash(s) for s in script)
        + "; style-src 'self' 'unsafe-hashes' "
        + " ".join(source_hash(s) for s in style)
        + "; img-src 'self' data:"
    )
    assert style[2] in MINI_APP
    report = verify_site(site, fitted_policy(tmp_path / "p.toml", csp))
    assert report.ok, report.violations
    # One hash less and the gate fails on exactly that attribute.
    weaker = fitted_policy(tmp_path / "q.toml", csp.replace(" " + source_hash("color: blue"), ""))
    again = verify_site(site, weaker)
    assert [(v.directive, v.source) for v in again.violations] == [
        ("style-src-attr", "/index.html:7:24")
    ]


WASM_APP = """// the smallest WebAssembly module: its magic number and version
WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))
  .then(() => { document.body.dataset.wasm = 'ok'; });
"""


def test_webassembly_is_fitted_and_verify_says_what_it_needs(tmp_path: Path) -> None:
    """A page whose script compiles WebAssembly: under the strict preset verify names the
    keyword that fixes it (fit never suggested anything before), and the fitted policy
    (which adds it, having read the script) verifies clean."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><html><head><title>w</title></head><body><script src="app.js">'
        "</script></body></html>\n"
    )
    (site / "app.js").write_text(WASM_APP)
    failed = cli("csp", "verify", "--origin", str(site))
    assert failed.returncode == 1
    assert "wasm-eval" in failed.stdout
    assert "│ 'wasm-unsafe-eval'" in failed.stdout  # the fix column
    policy = tmp_path / "edgeshield.toml"
    assert cli("csp", "fit", "--origin", str(site), "--output", str(policy)).returncode == 0
    assert "'wasm-unsafe-eval'" in policy.read_text()
    passed = cli("csp", "verify", "--origin", str(site), "--policy", str(policy))
    assert passed.returncode == 0, passed.stdout


def test_per_page_fit_and_verify_agree_on_odd_file_names(tmp_path: Path) -> None:
    """Each page has inline code of its own and a name that URLs spell in more than one way;
    fit keys the manifest, verify requests the page and the edge looks it up: all three must
    mean the same page, or verify fails pages the fit got right (or the edge serves them the
    base CSP)."""
    site = tmp_path / "site"
    names = ["index.html", "page(1).html", "100%.html", "sub dir/plus+sign.html", "café/index.html"]
    for n, name in enumerate(names):
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"<!doctype html><html><head><title>{n}</title></head><body>"
            f"<script>document.body.dataset.page = '{n}';</script></body></html>\n",
            encoding="utf-8",
        )
    policy = tmp_path / "edgeshield.toml"
    fitted = cli("csp", "fit", "--origin", str(site), "--output", str(policy), "--mode", "per-page")
    assert fitted.returncode == 0, fitted.stderr
    checked = cli("csp", "verify", "--origin", str(site), "--policy", str(policy))
    assert checked.returncode == 0, checked.stdout
    assert "5 page(s)" in checked.stdout
