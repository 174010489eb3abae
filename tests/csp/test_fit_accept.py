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


def test_relative_urls_after_a_base_on_another_host_load_from_it(tmp_path: Path) -> None:
    # Some themes print <base href="{{ baseURL }}">: every relative URL after it loads from
    # that origin, which is 'self' only when it is the site's own (--site-url).
    page = """<head><link rel="stylesheet" href="early.css">
<base href="https://static.example.net/docs/"><base href="https://ignored.example/">
<link rel="stylesheet" href="css/site.css"><script src="/app.js"></script>
<style>body { background: url(img/bg.png) }</style></head>
<body><img src="data:image/gif;base64,R0lGOD"><img src="//cdn.example.org/x.png"></body>"""
    site = write(tmp_path / "a", {"index.html": page})
    table = fit_site(site).pages["/index.html"]
    styles = {s for s in table["style-src"] if not s.startswith("'sha256-")}
    assert styles == {"'self'", "https://static.example.net"}
    assert set(table["script-src"]) == {"https://static.example.net"}
    assert set(table["img-src"]) == {
        "https://static.example.net",
        "data:",
        "https://cdn.example.org",
    }
    assert set(table["base-uri"]) == {"https://static.example.net"}  # the first only
    own = fit_site(site, same_origins=["https://static.example.net"]).pages["/index.html"]
    assert set(own["script-src"]) == {"'self'"}
    relative = write(tmp_path / "b", {"index.html": '<base href="/docs/"><img src="a.png">'})
    assert set(fit_site(relative).pages["/index.html"]["img-src"]) == {"'self'"}


def test_the_404_page_shares_its_sources_with_every_page(tmp_path: Path) -> None:
    # MkDocs, Jekyll and Hugo write a 404.html with inline code of its own; CloudFront serves it
    # for any missing path, where a per-page table could not find it: it goes to every page.
    from edgeshield.csp.fit import FitOptions, plan
    from edgeshield.csp.hashing import hash_source

    site = write(
        tmp_path,
        {
            "index.html": "<script>home()</script>",
            "a.html": "<script>a()</script>",
            "404.html": "<script>notFound()</script><img src='https://img.example/x.png'>",
        },
    )
    chosen = plan(fit_site(site), {"script-src": ["'self'"]}, FitOptions(mode="per-page"))
    assert hash_source("notFound()") in chosen.fitted["script-src"]
    assert chosen.fitted["img-src"] == ["https://img.example"]
    assert "/404.html" not in chosen.pages
    assert chosen.pages["/index.html"] == {"script-src": [hash_source("home()")]}


def test_an_empty_script_needs_nothing_but_an_empty_style_does() -> None:
    # Sphinx's search page has an empty <script></script>: Chromium never checks it, while an
    # empty <style>, a <style type=text/less> and an empty style=/on… attribute are reported.
    page = (
        '<script></script><script type="module"></script><script> </script><style></style>'
        '<style type="text/less">a{}</style><p style="" onclick="">x</p>'
    )
    assert [(i.kind, i.text) for i in scan_html(page.encode()).inline] == [
        ("inline script", " "),
        ("inline style", ""),
        ("inline style", "a{}"),
        ("style attribute", ""),
        ("event handler onclick", ""),
    ]
