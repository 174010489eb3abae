"""Untrusted text made safe for serve's console, and function headers turned into lines."""

from __future__ import annotations

import pytest

from edgeshield.emulator.console import printable
from edgeshield.emulator.pipeline import wire_headers


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "plain text: [bold]markup[/bold] stays text",
            "plain text: [bold]markup[/bold] stays text",
        ),
        ("\x1b[2Jclear", "\\x1b[2Jclear"),
        ("two\nlines\r\n", "two\\x0alines\\x0d\\x0a"),
        ("tab\there", "tab\\x09here"),
        ("bell\x07 del\x7f c1\x9b", "bell\\x07 del\\x7f c1\\x9b"),
        ("bidi \u202eevil\u202c", "bidi \\u202eevil\\u202c"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("line\u2028sep", "line\\u2028sep"),
        ("accents é ✓ 漢字 stay", "accents é ✓ 漢字 stay"),
        ("lone \udcff surrogate", "lone \\udcff surrogate"),
    ],
)
def test_printable_escapes_what_a_terminal_would_obey(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_printable_cuts_long_text() -> None:
    out = printable("a" * 1000, limit=50)
    assert out == "a" * 50 + "…"
    escaped = printable("\x1b" * 100, limit=10)
    assert escaped.endswith("…") and len(escaped) == 11


def test_the_dict_key_names_the_header_and_the_key_only_its_letters() -> None:
    lines = wire_headers(
        {
            "last-modified": [{"key": "X-Amz-Meta-Last-Modified", "value": "copied"}],
            "x-frame-options": [{"key": "X-FRAME-Options", "value": "DENY"}],
            "content-type": [{"value": "text/html"}],
            "X-Upper": [{"value": "1"}],
            "set-cookie": [{"key": "Set-Cookie", "value": "a=1"}, {"value": "b=2"}],
            "x-odd": [{"key": 3, "value": "v"}],
        }
    )
    assert lines == [
        ("Last-Modified", "copied"),
        ("X-FRAME-Options", "DENY"),
        ("Content-Type", "text/html"),
        ("X-Upper", "1"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-Odd", "v"),
    ]
