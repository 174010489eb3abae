"""fit_site and plan on generated site trees: union or per-page, determinism, re-fit, flags."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from edgeshield.csp import FitOptions, Reason, fit_policy, fit_site, plan
from edgeshield.csp.fitpolicy import strict_csp
from edgeshield.policy import load
from edgeshield.policy.csp import parse_raw
from edgeshield.policy.presets import preset_text
from tests.csp.sites import write_site


def sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


THEME = sha('window.theme = localStorage.getItem("theme") || "auto";')
ONCLICK = sha('toggle("menu"); return false;')
STYLE_ATTR = sha("color: #333")


def page_script(number: int) -> str:
    return sha(f'var page = {number}; document.body.dataset.page = "Numéro {number}";')


def test_every_page_and_stylesheet_is_read(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", pages=12)
    result = fit_site(site)
    assert sorted(result.files) == sorted(
        ["/index.html"]
        + [f"/docs/section-{n}/index.html" for n in (3, 6, 9)]
        + [f"/docs/page-{n}.html" for n in (1, 2, 4, 5, 7, 8, 10, 11)]
    )
    page = result.sources_for_page_only("/docs/page-4.html")
    # CRLF in the file, non-ASCII in the code, an entity in the handler: hashed as browsers do.
    assert page["script-src"] == {THEME, ONCLICK, page_script(4), "'unsafe-hashes'"}
    assert page["style-src"] == {"'self'", STYLE_ATTR, "'unsafe-hashes'"}
    assert page["img-src"] == {"'self'"}
    assert result.sources_for_site() == {
        "style-src": {"https://fonts.googleapis.com"},
        "font-src": {"https://fonts.gstatic.com"},
        "img-src": {"data:"},
    }
    onclick = result.pages["/docs/page-4.html"]["script-src"][ONCLICK]
    assert onclick == [Reason("event handler onclick", "docs/page-4.html:9", True)]


def test_union_for_a_small_site(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", pages=5)
    chosen = plan(fit_site(site), strict_csp())
    assert chosen.mode == "union"
    assert chosen.fitted["script-src"] == [
        "'unsafe-hashes'",
        *sorted([THEME, ONCLICK, *(page_script(n) for n in range(5))]),
    ]
    assert chosen.fitted["img-src"] == ["data:"]  # 'self' is in the strict preset already
    assert chosen.largest_bytes == chosen.union_bytes < 4096


def test_per_page_when_the_union_grows(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", pages=120)
    chosen = plan(fit_site(site), strict_csp())
    assert chosen.mode == "per-page"
    assert chosen.union_bytes > 4096
    # What every page shares is in the base; each page keeps only its own script hash.
    assert set(chosen.fitted["script-src"]) == {"'unsafe-hashes'", THEME, ONCLICK}
    assert chosen.fitted["style-src"] == [
        "'unsafe-hashes'",
        "https://fonts.googleapis.com",
        STYLE_ATTR,
    ]
    assert chosen.pages["/docs/page-7.html"] == {"script-src": [page_script(7)]}
    assert len(chosen.pages) == 120
    assert chosen.largest_bytes < 1024
    forced = plan(fit_site(site), strict_csp(), FitOptions(mode="union"))
    assert forced.mode == "union" and forced.pages == {}


def test_same_site_same_policy_and_a_rebuild_refits(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", pages=8)
    first = fit_policy(site, preset_text("strict"))
    again = fit_policy(site, first.policy_text)
    assert again.policy_text == first.policy_text  # fitting a fitted policy changes nothing
    assert again.policy_text.count("[headers.content-security-policy.fitted]") == 1
    # Rebuild: one page's inline code changes; the stale hash must go, the new one come.
    page = site / "docs" / "page-2.html"
    page.write_bytes(page.read_bytes().replace(b"var page = 2;", b"var page = 'two';"))
    rebuilt = fit_policy(site, again.policy_text)
    assert page_script(2) not in rebuilt.policy_text
    assert (
        sha("var page = 'two'; document.body.dataset.page = \"Numéro 2\";") in rebuilt.policy_text
    )


def test_fitted_policy_loads_and_keeps_the_strict_parts(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", pages=5)
    path = tmp_path / "edgeshield.toml"
    path.write_text(fit_policy(site, preset_text("strict")).policy_text)
    policy, warnings = load(path)
    assert warnings == []
    value = next(s.value for s in policy.headers if s.name == "content-security-policy")
    directives, _ = parse_raw(value)
    assert directives["default-src"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in value and "'unsafe-eval'" not in value
    assert directives["font-src"] == ["'self'", "https://fonts.gstatic.com"]


def test_unsafe_inline_only_when_asked_and_then_without_hashes(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", pages=5)
    chosen = plan(fit_site(site), strict_csp(), FitOptions(unsafe_inline=frozenset({"style"})))
    assert chosen.fitted["style-src"] == ["'unsafe-inline'", "https://fonts.googleapis.com"]
    assert STYLE_ATTR in chosen.dropped["style-src"]
    assert THEME in chosen.fitted["script-src"]  # scripts keep their hashes
    # A policy that already has 'unsafe-inline' gets no hashes either: they would switch it off.
    base = {**strict_csp(), "script-src": ["'self'", "'unsafe-inline'"]}
    kept = plan(fit_site(site), base)
    assert not any(s.startswith("'sha") for s in kept.fitted.get("script-src", []))


def test_crawl_additions_merge_into_the_result(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", pages=3)
    result = fit_site(site)
    runtime = sha("inserted by a library")
    result.add("style-src", runtime, Reason("style inserted at run time", "https://x/", False))
    result.add(
        "script-src",
        sha("h()"),
        Reason("handler set at run time", "/docs/page-1.html", True),
        page="/docs/page-1.html",
    )
    chosen = plan(result, strict_csp())
    assert runtime in chosen.fitted["style-src"]
    assert sha("h()") in chosen.fitted["script-src"]


def test_same_origin_absolute_links_and_http_upgrade(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<img src="https://www.example.com/a.png"><img src="http://cdn.example.net:8443/b.png">'
        '<script src="//js.example.org/x.js"></script><img src="ftp://old.example/c.png">'
    )
    result = fit_site(site, same_origins=["https://www.example.com"])
    page = result.sources_for_page_only("/index.html")
    assert page["img-src"] == {"'self'", "https://cdn.example.net:8443"}
    assert page["script-src"] == {"https://js.example.org"}
    assert any("ftp: URLs" in w for w in result.warnings)


def test_file_names_become_request_paths(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "notes de cours").mkdir(parents=True)
    (site / "notes de cours" / "été.html").write_text("<script>x()</script>")
    (site / ".git").mkdir()
    (site / ".git" / "index.html").write_text("<script>no()</script>")
    assert list(fit_site(site).files) == ["/notes%20de%20cours/%C3%A9t%C3%A9.html"]
