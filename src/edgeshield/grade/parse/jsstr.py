"""Small JavaScript string semantics the Observatory's results depend on.

The Observatory is Node code; where its outcome depends on a JS built-in (``trim``, ``/\\s+/``,
``parseInt``, ``decodeURIComponent``, ``Intl.Collator('en')`` ordering) we reproduce that
built-in rather than use Python's slightly different one.
"""

from __future__ import annotations

import math
import re
from typing import Final

# ECMAScript WhiteSpace + LineTerminator: what String.prototype.trim and /\s/ remove.
JS_WS: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WS_RUN: Final = re.compile("[" + re.escape(JS_WS) + "]+")
_LEADING_INT: Final = re.compile("[" + re.escape(JS_WS) + r"]*([+-]?[0-9]+)")


def trim(s: str) -> str:
    return s.strip(JS_WS)


# Whitespace to str.split() but not to JS, and the other way round (U+FEFF).
_SPLIT_DISAGREES: Final = re.compile("[\x1c-\x1f\x85\ufeff]")


def split_ws(s: str) -> list[str]:
    """``s.trim().split(/\\s+/)`` (an empty string gives ``['']``)."""
    if (s.isascii() and s.isprintable()) or _SPLIT_DISAGREES.search(s) is None:
        # str.split cuts at the same characters as JS here, and faster than the regex below.
        parts = s.split()
        return parts or [""]
    s = trim(s)
    return _WS_RUN.split(s) if s else [""]


def parse_int(s: str) -> float:
    """``Number.parseInt(s, 10)``: leading digits after optional whitespace and sign, else NaN."""
    m = _LEADING_INT.match(s)
    return float(m.group(1)) if m else math.nan


class URIError(ValueError):
    pass


_ESCAPE_RUN: Final = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def decode_uri_component(s: str) -> str:
    """``decodeURIComponent``: raises URIError on a malformed escape or invalid UTF-8."""
    if "%" not in s:
        return s
    out: list[str] = []
    pos = 0
    for m in _ESCAPE_RUN.finditer(s):
        plain = s[pos : m.start()]
        if "%" in plain:
            raise URIError(s)
        out.append(plain)
        try:
            out.append(bytes.fromhex(m.group(0).replace("%", "")).decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise URIError(s) from exc
        pos = m.end()
    rest = s[pos:]
    if "%" in rest:
        raise URIError(s)
    out.append(rest)
    return "".join(out)


# ICU root collation (what Intl.Collator('en') uses) orders ASCII as: whitespace, punctuation
# and symbols in this order, then digits, then letters, with case a later-level difference.
# Control characters are ignorable. Mapping each character to its rank gives a sort key that
# agrees with the collator for the lower-cased ASCII sources a CSP holds.
_ICU_ASCII_ORDER: Final = (
    "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
)


# Keys start just below the space, so a printable ASCII string's key has whitespace exactly
# where the string has spaces (see printable_collation_key).
_KEY_BASE: Final = ord(" ") - _ICU_ASCII_ORDER.index(" ")


def _collation_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for rank, ch in enumerate(_ICU_ASCII_ORDER):
        table[ord(ch)] = chr(_KEY_BASE + rank)
        if ch.isalpha():
            table[ord(ch.upper())] = chr(_KEY_BASE + rank)
    for code in range(0x80):
        if code not in table:
            table[code] = None  # ignorable control character
    return table


COLLATION_TABLE: Final = _collation_table()  # str.translate table of collation_key
# The same mapping for bytes.translate: a plain table look-up per byte instead of a dict look-up
# per character. Bytes from 0x80 up map to themselves, so UTF-8's multi-byte sequences pass.
_BYTE_TABLE: Final = bytes(
    ord(key) if isinstance(key := COLLATION_TABLE.get(code), str) else code for code in range(256)
)
_IGNORABLE: Final = bytes(code for code in range(0x80) if COLLATION_TABLE[code] is None)


def collation_key(s: str) -> str:
    """``s.translate(COLLATION_TABLE)``, by way of UTF-8 bytes (lone surrogates included)."""
    raw = s.encode("utf-8", "surrogatepass")
    return raw.translate(_BYTE_TABLE, _IGNORABLE).decode("utf-8", "surrogatepass")


def collation_keys(tokens: list[str]) -> list[str]:
    """``collation_key`` of each token (none holds whitespace), in one pass over them all."""
    # A space keys as a space, and no token has one: the joined key splits where the tokens do.
    return collation_key(" ".join(tokens)).split(" ")


def printable_collation_key(s: str) -> str | None:
    """``collation_key(s)`` if ``s`` is printable ASCII, else None.

    Every character keys to one printable character, and only the space to a space: the key
    splits (``str.split()``, or on the key of any character) exactly where ``s`` does, so a
    whole policy is keyed once and its tokens' keys are cut out alongside the tokens.
    """
    if not (s.isascii() and s.isprintable()):
        return None
    return s.encode("ascii").translate(_BYTE_TABLE).decode("ascii")
