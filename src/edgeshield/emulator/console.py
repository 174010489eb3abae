"""Lines for ``serve``'s console built from untrusted text (a function's exception message, a
header name it returned): made safe to print, and printed as plain text, never as markup."""

from __future__ import annotations

import sys
import unicodedata
from typing import Final

_LIMIT: Final = 400
# Control, format (bidi overrides, zero-width), line and paragraph separators, unassigned.
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def printable(text: str, limit: int = _LIMIT) -> str:
    """``text`` on one line with every control or invisible formatting character shown as an
    escape (``\\x1b``, ``\\u202e``), cut to ``limit`` characters."""
    out: list[str] = []
    size = 0
    for char in text:
        if char.isascii() and char.isprintable():
            piece = char
        elif unicodedata.category(char) in _UNSAFE_CATEGORIES:
            code = ord(char)
            piece = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
            if code > 0xFFFF:
                piece = f"\\U{code:08x}"
        else:
            piece = char
        out.append(piece)
        size += len(piece)
        if size > limit:
            return "".join(out)[:limit] + "…"
    return "".join(out)


def console_line(text: str) -> None:
    """Print one console line for the local edge: plain stdout, no markup interpretation."""
    sys.stdout.write(printable(text, limit=2000) + "\n")
    sys.stdout.flush()
