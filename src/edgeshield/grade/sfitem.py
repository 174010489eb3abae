"""Just enough RFC 8941/9651 structured-field parsing to read an Item's bare token.

COOP and COEP values are structured-field items; a value that does not parse, or whose bare
item is not a token (e.g. a quoted string), is invalid. Parameters are parsed for validity and
then ignored.
"""

from __future__ import annotations

import re
from typing import Final

_TOKEN: Final = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_KEY: Final = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_NUMBER: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_BYTES: Final = re.compile(r":[A-Za-z0-9+/=]*:")
_DATE: Final = re.compile(r"@-?[0-9]{1,15}")
_SIMPLE_TOKEN: Final = re.compile(r"[a-z][a-z\-]*")


class _Invalid(Exception):
    pass


def _string_end(s: str, pos: int) -> int:
    """Index just past a quoted string starting at ``pos`` (which holds '"')."""
    i = pos + 1
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            if i + 1 >= n or s[i + 1] not in '"\\':
                raise _Invalid
            i += 2
            continue
        if c == '"':
            return i + 1
        if not (" " <= c <= "~"):
            raise _Invalid
        i += 1
    raise _Invalid


def _display_string_end(s: str, pos: int) -> int:
    """Index just past a display string %"..." (RFC 9651) starting at ``pos``."""
    if s[pos + 1 : pos + 2] != '"':
        raise _Invalid
    i = pos + 2
    n = len(s)
    while i < n:
        c = s[i]
        if c == '"':
            return i + 1
        if not (" " <= c <= "~"):
            raise _Invalid
        if c == "%":
            if not re.fullmatch(r"[0-9a-f]{2}", s[i + 1 : i + 3]):
                raise _Invalid
            i += 3
            continue
        i += 1
    raise _Invalid


def _bare_item_end(s: str, pos: int) -> tuple[int, bool]:
    """Parse a bare item at ``pos``; return (end, is_token)."""
    if pos >= len(s):
        raise _Invalid
    c = s[pos]
    if c == "-" or c.isdigit():
        m = _NUMBER.match(s, pos)
        if m is None:
            raise _Invalid
        text = m.group(0).lstrip("-")
        whole, _, frac = text.partition(".")
        if (frac and (len(whole) > 12 or len(frac) > 3)) or (not frac and len(whole) > 15):
            raise _Invalid
        return m.end(), False
    if c == '"':
        return _string_end(s, pos), False
    if c == ":":
        m = _BYTES.match(s, pos)
        if m is None:
            raise _Invalid
        return m.end(), False
    if c == "?":
        if s[pos + 1 : pos + 2] in ("0", "1"):
            return pos + 2, False
        raise _Invalid
    if c == "@":
        m = _DATE.match(s, pos)
        if m is None:
            raise _Invalid
        return m.end(), False
    if c == "%":
        return _display_string_end(s, pos), False
    m = _TOKEN.match(s, pos)
    if m is None:
        raise _Invalid
    return m.end(), True


def item_token(value: str) -> str | None:
    """The bare token of a structured-field Item, or None if it is not a valid token item."""
    if _SIMPLE_TOKEN.fullmatch(value):
        return value  # the common case: a bare lower-case token without parameters
    s = value.lstrip(" ")
    try:
        end, is_token = _bare_item_end(s, 0)
        token = s[:end]
        pos = end
        n = len(s)
        while pos < n and s[pos] == ";":
            pos += 1
            while pos < n and s[pos] == " ":
                pos += 1
            m = _KEY.match(s, pos)
            if m is None:
                raise _Invalid
            pos = m.end()
            if pos < n and s[pos] == "=":
                pos, _ = _bare_item_end(s, pos + 1)
        if s[pos:].strip(" "):
            raise _Invalid
    except _Invalid:
        return None
    return token if is_token else None
