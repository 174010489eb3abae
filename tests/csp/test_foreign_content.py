"""Inline SVG and MathML: inside <svg> a <script>/<style> is parsed as markup (character
references decoded, comments dropped, CDATA kept), so its hash is of that text, not of the
raw bytes; inside <math> neither runs. Found on real sites whose logos and icons are inline
SVG exported with a <style> block. The last test checks the hashes in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeshield.csp.cssscan import scan_css
from edgeshield.csp.fitpolicy import fit_policy
from edgeshield.csp.hashing import hash_source
from edgeshield.csp.htmlscan import scan_html
from edgeshield.policy import preset_text
from tests.csp.test_browser_fixtures import chromium  # noqa: F401  (fixture)

FOREIGN_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Inline SVG</title>
<style>@namespace svg url(http://www.w3.org/2000/svg); p { color: #111 }</style>
</head><body><h1>Inline SVG</h1>
<svg width="8" height="8"><style>rect &gt; a { fill: red } /* &amp; */</style><rect width="8" height="8"/></svg>
<svg width="8" height="8"><script><![CDATA[ window.svgRan = 2 < 3; ]]></script></svg>
<svg width="8" height="8"><style><!-- old-style comment --> rect { fill: blue }</style></svg>
<svg width="8" height="8"><style type="text/css">
  .st0{fill:#FFFFFF;}
</style><circle class="st0" r="2"/><use href="img/sprite.svg#i"/></svg>
<svg width="8" height="8"><foreignObject><style>p &gt; b { color: red }</style></foreignObject></svg>
<svg width="8" height="8"><p>breaks out</p></svg><style>p &gt; i { color: red }</style>
<math><mi>x</mi><style>mi { color: red }</style></math>
</body></html>
"""


def texts(page: str) -> list[tuple[str, str]]:
    return [(i.kind, i.text) for i in scan_html(page.encode()).inline]


def test_svg_code_is_hashed_as_parsed_markup() -> None:
    assert texts(FOREIGN_PAGE) == [
        ("inline style", "@namespace svg url(http://www.w3.org/2000/svg); p { color: #111 }"),
        ("inline style", "rect > a { fill: red } /* & */"),
        ("inline script", " window.svgRan = 2 < 3; "),
        ("inline style", " rect { fill: blue }"),
        ("inline style", "\n  .st0{fill:#FFFFFF;}\n"),
        # foreignObject and an HTML start tag lead back to HTML: raw text again
        ("inline style", "p &gt; b { color: red }"),
        ("inline style", "p &gt; i { color: red }"),
    ]  # the MathML <style> is an unknown element: nothing


def test_foreign_content_ends_and_nests() -> None:
    page = (
        "<svg><g><svg><script>a &lt; b</script></svg></g></svg>"
        "<script>c &lt; d</script>"
        "<svg/><script>e &lt; f</script>"
        "<svg><title>t</title><desc>d</desc><style>g &gt; h</style></svg>"
    )
    assert [t for _k, t in texts(page)] == ["a < b", "c &lt; d", "e &lt; f", "g > h"]


def test_svg_script_with_src_and_data_types() -> None:
    page = (
        '<svg><script href="/icons.js"></script><script type="application/json">{}</script>'
        "<script><b>not text</b>ok()</script></svg>"
    )
    scan = scan_html(page.encode())
    assert [i.text for i in scan.inline] == ["ok()"]
    assert [(r.directive, r.url) for r in scan.refs] == [("script-src", "/icons.js")]


def test_svg_use_loads_its_file_as_an_image() -> None:
    scan = scan_html(b'<svg><use href="/sprite.svg#a"/><use xlink:href="#local"/></svg>')
    assert [(r.directive, r.url) for r in scan.refs] == [("img-src", "/sprite.svg#a")]


def test_css_namespace_url_is_not_fetched() -> None:
    css = '@namespace svg url(http://www.w3.org/2000/svg);\n@namespace "x";\na { b: url(a.png) }'
    assert [(r.directive, r.url, r.line) for r in scan_css(css)] == [("img-src", "a.png", 3)]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.usefixtures("chromium")
def test_fitted_hashes_allow_inline_svg_in_chromium(tmp_path: Path) -> None:
    from edgeshield.csp.verify import verify_site

    site = tmp_path / "site"
    (site / "img").mkdir(parents=True)
    (site / "img" / "sprite.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><symbol id="i"><rect/></symbol></svg>'
    )
    (site / "index.html").write_text(FOREIGN_PAGE)
    fitted = fit_policy(site, preset_text("strict"))
    assert "https://www.w3.org" not in fitted.policy_text
    assert hash_source("rect > a { fill: red } /* & */") in fitted.policy_text
    policy = tmp_path / "edgeshield.toml"
    policy.write_text(fitted.policy_text)
    report = verify_site(site, policy)
    assert report.errors == [] and report.violations == [], report.violations
