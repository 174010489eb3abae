"""What one page needs: script kinds, inert content, resource references and their directives."""

from __future__ import annotations

from edgeshield.csp.htmlscan import scan_html


def kinds(page: str) -> list[tuple[str, str]]:
    return [(i.directive, i.kind) for i in scan_html(page.encode()).inline]


def refs(page: str) -> list[tuple[str, str, int]]:
    return [(r.directive, r.url, r.line) for r in scan_html(page.encode()).refs]


def test_script_types() -> None:
    page = """
    <script>classic()</script>
    <script type="">empty_type()</script>
    <script type=" Text/JavaScript ">legacy()</script>
    <script language="javascript">old()</script>
    <script type="module">import "x";</script>
    <script type="importmap">{"imports": {}}</script>
    <script type="speculationrules">{}</script>
    <script type="application/ld+json">{"@type": "Thing"}</script>
    <script type="text/template"><div>{{x}}</div></script>
    <script type="text/x-mathjax-config">cfg</script>
    <script src="/app.js">ignored()</script>
    """
    assert kinds(page) == [
        ("script-src", "inline script"),
        ("script-src", "inline script"),
        ("script-src", "inline script"),
        ("script-src", "inline script"),
        ("script-src", "module script"),
        ("script-src", "importmap"),
        ("script-src", "speculation rules"),
    ]


def test_inert_content_needs_nothing() -> None:
    page = """<noscript><style>.js{display:none}</style><img src="https://a.example/x.png"></noscript>
    <textarea><script>no()</script></textarea><title>t <script>no()</script></title>
    <template><script>yes()</script></template><p>after</p><style>p{}</style>"""
    assert kinds(page) == [
        ("style-src", "<style> in <noscript>"),
        ("script-src", "inline script"),
        ("style-src", "inline style"),
    ]
    assert refs(page) == []


def test_a_style_in_noscript_is_hashed_for_pages_parsed_without_scripting() -> None:
    """A site search that reads its pages with DOMParser (scripting off: Sphinx's) turns a
    <style> inside <noscript> into a style element under the page's CSP; Chromium reports it.
    Only a <style> directly in the <noscript>: a <script> there never runs, and nothing inside
    another inert element is parsed."""
    page = (
        "<noscript><style>.js{display:none}</style><script>no()</script>"
        "<textarea><style>t{}</style></textarea></noscript>"
    )
    assert [(i.kind, i.text) for i in scan_html(page.encode()).inline] == [
        ("<style> in <noscript>", ".js{display:none}")
    ]


def test_every_event_handler_and_only_those() -> None:
    page = '<div onclick="a()" onmouseover="b()" one="x" only="y" onfoo="z" ONLOAD="c()"></div>'
    assert [i.text for i in scan_html(page.encode()).inline] == ["a()", "b()", "c()"]


def test_lines_point_at_the_attribute() -> None:
    page = '<p>\n<div\n  class="x"\n  onclick="go()">\n</div>\n<a href="javascript:void(0)">y</a>'
    handler, url = scan_html(page.encode()).inline
    assert (handler.line, url.line) == (4, 6)


def test_resource_references_and_their_directives() -> None:
    page = """<head>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">
<link rel="icon" href="/favicon.ico"><link rel="manifest" href="/site.webmanifest">
<link rel="preload" as="font" href="https://fonts.gstatic.com/x.woff2" crossorigin>
<link rel="modulepreload" href="https://cdn.example.com/m.js"><link rel="canonical" href="https://other.example/"><link rel="prefetch" href="https://hint.example/x">
<base href="/docs/">
</head><body>
<img src="a.png" srcset="https://img.example/b.png 2x">
<picture><source srcset="c.webp"><img src="c.png"></picture>
<video src="v.mp4" poster="https://img.example/p.jpg"><source src="https://media.example/v.webm"><track src="t.vtt"></video>
<iframe src="https://www.youtube-nocookie.com/embed/x"></iframe>
<form action="https://forms.example/submit"><input type="image" src="go.png"></form>
<svg><image href="data:image/png;base64,AA"/></svg>
<a href="https://elsewhere.example/">a link loads nothing</a>
<div style="background: url('bg.png')"></div>
<style>@font-face { src: url(data:font/woff2;base64,AA) }</style>
</body>"""
    assert refs(page) == [
        ("style-src", "https://fonts.googleapis.com/css2?family=Inter", 2),
        ("img-src", "/favicon.ico", 3),
        ("manifest-src", "/site.webmanifest", 3),
        ("font-src", "https://fonts.gstatic.com/x.woff2", 4),
        ("script-src", "https://cdn.example.com/m.js", 5),
        ("base-uri", "/docs/", 6),
        ("img-src", "a.png", 8),
        ("img-src", "https://img.example/b.png", 8),
        ("img-src", "c.webp", 9),
        ("img-src", "c.png", 9),
        ("media-src", "v.mp4", 10),
        ("img-src", "https://img.example/p.jpg", 10),
        ("media-src", "https://media.example/v.webm", 10),
        ("media-src", "t.vtt", 10),
        ("frame-src", "https://www.youtube-nocookie.com/embed/x", 11),
        ("form-action", "https://forms.example/submit", 12),
        ("img-src", "go.png", 12),
        ("img-src", "data:image/png;base64,AA", 13),
        ("img-src", "bg.png", 15),
        ("font-src", "data:font/woff2;base64,AA", 16),
    ]


def test_warnings_for_what_a_csp_cannot_fit() -> None:
    page = """<meta http-equiv="Content-Security-Policy" content="default-src 'self'">
<object data="x.swf"></object><iframe srcdoc="<script>x()</script>"></iframe>"""
    messages = [m for _line, m in scan_html(page.encode()).warnings]
    assert any("own CSP" in m for m in messages)
    assert any("object-src 'none'" in m for m in messages)
    assert any("srcdoc" in m for m in messages)


def test_undeclared_charset_with_non_ascii_code_is_flagged() -> None:
    scan = scan_html("<script>t = 'é'</script>".encode())
    assert any("charset" in m for _l, m in scan.warnings)
    assert not scan_html(b"<script>t = 1</script>").warnings


def test_unclosed_script_at_end_of_file_needs_nothing() -> None:
    # Browsers never run a <script> still open at EOF.
    assert scan_html(b"<p>x</p><script>late()").inline == []
