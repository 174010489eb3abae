"""Lines for ``serve``'s console built from untrusted text (a function's exception message, a
header name it returned): made safe to print, and printed as plain text, never as markup."""

from __future__ import annotations

import sys
from typing import Final

from edgeshield import safetext

_LIMIT: Final = 400


def printable(text: str, limit: int = _LIMIT) -> str:
    """``text`` on one line with every control or invisible formatting character shown as an
    escape (``\\x1b``, ``\\u202e``), cut to ``limit`` characters (edgeshield.safetext, the
    sanitiser every printer shares)."""
    return safetext.printable(text, limit=limit)


def console_line(text: str) -> None:
    """Print one console line for the local edge: plain stdout, no markup interpretation."""
    sys.stdout.write(printable(text, limit=2000) + "\n")
    sys.stdout.flush()
