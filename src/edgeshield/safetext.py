"""Untrusted text made safe to print: one helper for every printer. Pure, stdlib only.

Viewers, origins, functions and CSP reports choose the text edgeshield shows on a console or
in ``logs``. Printed as is, such text can move the cursor, clear the screen, retitle the
terminal or hide a link behind an OSC 8 escape; a lone surrogate (valid in JSON, not in UTF-8)
raises ``UnicodeEncodeError`` in the middle of a write; ``[/]`` or ``[link=…]`` is read as
rich markup when it reaches ``Console.print``. ``printable`` makes every such character
visible instead (``\\x1b``, ``\\u202e``, ``\\udfff``): the reader sees exactly what was
sent, and nothing is interpreted. Rich markup is the printer's business: print the result
with ``markup=False`` or through ``rich.markup.escape``.
"""

from __future__ import annotations

import re
from typing import Final

# C0 controls and DEL, C1 controls, lone surrogates, and the Unicode format characters that
# reorder or hide text on screen (bidi embeddings/overrides/isolates, line/paragraph
# separators, zero-width characters, BOM).
_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
_UNSAFE_KEEP_LINES: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_lines: bool = False, limit: int | None = None) -> str:
    """``text`` with every control, escape, bidi and surrogate character shown as a visible
    escape. With ``keep_lines``, newlines and tabs stay (multi-line log events); ``limit``
    cuts the result (an attacker also chooses the length)."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    pattern = _UNSAFE_KEEP_LINES if keep_lines else _UNSAFE
    return pattern.sub(_visible, text)
