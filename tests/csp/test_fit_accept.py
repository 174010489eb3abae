"""Regressions found by fitting real sites built with other generators (Sphinx rtd/pydata
themes, MkDocs readthedocs/mkdocs themes, Jekyll minima), each reduced to a hand-written page."""

from __future__ import annotations

from pathlib import Path

from edgeshield.csp.fit import fit_site
from edgeshield.csp.htmlscan import scan_html


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_google_fonts_stylesheet_brings_its_font_host(tmp_path: Path) -> None:
    # Jekyll and Hugo themes link Google Fonts CSS; its @font-face rules load from
    # fonts.gstatic.com, which the static read never sees and the verify browser never fetches.
    site = write(
        tmp_path,
        {
            "index.html": '<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Lato">',
            "css/site.css": "@import url('https://fonts.googleapis.com/css?family=Inter');",
            "other.html": '<link rel="stylesheet" href="https://cdn.example.com/x.css">',
        },
    )
    result = fit_site(site)
    assert set(result.site["font-src"]) == {"https://fonts.gstatic.com"}  # from site.css
    assert set(result.pages["/index.html"]["font-src"]) == {"https://fonts.gstatic.com"}
    assert "font-src" not in result.pages["/other.html"]  # an unknown host brings nothing


def test_scripts_from_other_hosts_are_named_as_unchecked(tmp_path: Path) -> None:
    # Sphinx's MathJax and MkDocs' highlight.js come from CDNs: csp verify blocks every other
    # host, so their run-time styles and fonts are never checked; fit says so once per host.
    site = write(
        tmp_path,
        {
            "index.html": '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/tex-chtml.js"></script>',
            "a.html": '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/tex-chtml.js"></script>'
            '<script src="/local.js"></script>',
        },
    )
    notes = [w for w in fit_site(site).warnings if "not run by csp verify" in w]
    assert len(notes) == 1
    assert notes[0].startswith("a.html:1, index.html:1: scripts from https://cdn.jsdelivr.net")


def test_form_without_action_submits_to_the_page() -> None:
    page = (
        '<form><input name="q"></form><form action=""></form><form action="javascript:go()"></form>'
    )
    assert [(r.directive, r.url) for r in scan_html(page.encode()).refs] == [
        ("form-action", "./"),
        ("form-action", "./"),
    ]
