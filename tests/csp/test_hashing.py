"""Hashes as browsers compute them: known vectors, each computed here with hashlib on literals."""

from __future__ import annotations

import base64
import hashlib

import pytest

from edgeshield.csp.hashing import hash_source, javascript_url_text, normalize_newlines
from edgeshield.csp.htmlscan import decode_attribute, scan_html, srcset_urls


def expected(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def test_known_vectors() -> None:
    # The example of CSP3 §2.3.1 / MDN: alert('Hello, world.');
    assert hash_source("alert('Hello, world.');") == (
        "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
    )
    assert hash_source("") == "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
    assert hash_source("x", "sha384") == (
        "'sha384-" + base64.b64encode(hashlib.sha384(b"x").digest()).decode() + "'"
    )


def test_newlines_are_normalised_before_hashing() -> None:
    assert normalize_newlines("a\r\nb\rc\n") == "a\nb\nc\n"
    page = b"<script>\r\n  go();\r\n</script>"
    [item] = scan_html(page).inline
    assert item.source == expected("\n  go();\n")


def test_non_ascii_is_hashed_as_utf8_whatever_the_page_encoding() -> None:
    text = "document.title = 'Café – ☕';"
    utf8 = b'<meta charset="utf-8"><script>' + text.encode("utf-8") + b"</script>"
    assert scan_html(utf8).inline[0].source == expected(text)
    latin = "document.title = 'Café';"
    page = b'<meta charset="iso-8859-1"><script>' + latin.encode("cp1252") + b"</script>"
    scan = scan_html(page)
    assert scan.encoding == "cp1252"
    assert scan.inline[0].source == expected(latin)


def test_bom_is_not_part_of_the_text() -> None:
    page = b"\xef\xbb\xbf<script>a()</script>"
    assert scan_html(page).inline[0].source == expected("a()")
    utf16 = "<script>b()</script>".encode("utf-16")
    assert scan_html(utf16).inline[0].source == expected("b()")


def test_script_text_is_raw_but_attributes_are_decoded() -> None:
    page = (
        b"<script>if (a &amp;&amp; b) x('&lt;')</script><button onclick=\"f(&quot;&amp;&quot;)\">"
    )
    script, handler = scan_html(page).inline
    assert script.source == expected("if (a &amp;&amp; b) x('&lt;')")
    assert handler.kind == "event handler onclick"
    assert handler.source == expected('f("&")')


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("a&amp;b", "a&b"),
        ("&copy=2", "&copy=2"),  # legacy name then '=': stays literal in attributes
        ("&copyx", "&copyx"),  # ... and then an alphanumeric
        ("&copy;x", "©x"),
        ("&copy x", "© x"),
        ("&#65;&#x42;&#x43", "ABC"),
        ("&notin;", "∉"),
        ("&unknown;", "&unknown;"),
        ("&", "&"),
    ],
)
def test_attribute_character_references(raw: str, decoded: str) -> None:
    assert decode_attribute(raw) == decoded


def test_javascript_urls_hash_the_whole_serialised_url() -> None:
    assert javascript_url_text("javascript:void(0)") == "javascript:void(0)"
    assert javascript_url_text("  JavaScript:go()\n ") == "javascript:go()"
    assert javascript_url_text("javascript:alert('é')") == "javascript:alert('%C3%A9')"
    assert javascript_url_text("javascript:a?b c#d e") == "javascript:a?b%20c#d%20e"
    [item] = scan_html(b'<a href="javascript:void(0)">x</a>').inline
    assert item.kind == "javascript: URL"
    assert item.source == expected("javascript:void(0)")


def test_style_attribute_hash_is_of_the_decoded_value() -> None:
    [item] = scan_html(b'<p style="font-family: &quot;A&quot;; color:red">x</p>').inline
    assert item.directive == "style-src" and item.attribute
    assert item.source == expected('font-family: "A"; color:red')


def test_srcset_urls_keep_commas_inside_urls() -> None:
    value = "a.png 1x, data:image/png;base64,AAA= 2x,https://cdn.example.com/b,c.png 3x"
    assert srcset_urls(value) == [
        "a.png",
        "data:image/png;base64,AAA=",
        "https://cdn.example.com/b,c.png",
    ]
