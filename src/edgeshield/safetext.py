"""Untrusted text made safe to print: the one helper every printer uses. Pure, stdlib only.

Viewers, origins, functions and CSP reports choose the text edgeshield shows on a console or
in ``logs``. Printed as is, such text can move the cursor, clear the screen, retitle the
terminal or hide a link behind an OSC 8 escape; a lone surrogate (valid in JSON, not in UTF-8)
raises ``UnicodeEncodeError`` in the middle of a write; bidi overrides and zero-width
characters make a line read differently from what it holds. ``printable`` shows every such
character as a visible escape instead (``\\x1b``, ``\\u202e``, ``\\udfff``): the reader sees
exactly what was sent, and nothing is interpreted. Rich markup is the printer's business:
print the result with ``markup=False`` (and ``emoji=False``) or through ``rich.markup.escape``.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# Controls, format characters (bidi overrides, zero-width), line and paragraph separators,
# surrogates, private use and unassigned code points.
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str, *, keep_lines: bool = False, limit: int | None = None) -> str:
    """``text`` with every control, escape, invisible-formatting and surrogate character shown
    as an escape. With ``keep_lines``, newlines and tabs stay (multi-line log events).
    ``limit`` cuts the printed result to that many characters plus "…" (an attacker also
    chooses the length)."""
    if text.isascii() and text.isprintable():  # the common case, at C speed
        return text if limit is None or len(text) <= limit else text[:limit] + "…"
    out: list[str] = []
    size = 0
    for char in text:
        if char.isascii():
            safe = char.isprintable() or (keep_lines and char in "\n\t")
            piece = char if safe else _escape(char)
        elif unicodedata.category(char) in _UNSAFE_CATEGORIES:
            piece = _escape(char)
        else:
            piece = char
        out.append(piece)
        size += len(piece)
        if limit is not None and size > limit:
            return "".join(out)[:limit] + "…"
    return "".join(out)


def printable_lines(text: str, *, indent: str = "    ") -> str:
    """``printable`` keeping newlines, with every line after the first indented: text that
    holds a newline (a function's exception, a log event) cannot pass for lines of its own,
    such as a forged log event, which starts at the margin."""
    return printable(text.rstrip("\n"), keep_lines=True).replace("\n", "\n" + indent)
