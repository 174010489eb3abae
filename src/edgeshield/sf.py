"""RFC 8941 / RFC 9651 Structured Field Values: the one parser module policy and grade share.

Two readers live here on purpose, because they answer different questions:

- ``parse_dictionary`` returns a Dictionary as Python objects (tokens as ``Token``, a str
  subclass; strings as str; inner lists as lists) so the policy can validate Permissions-Policy
  and Reporting-Endpoints member by member, with an ``SFError`` that says what is wrong.
- ``item_token`` answers only "is this an Item whose bare item is a token, and which token?",
  the way the MDN HTTP Observatory reads COOP and COEP (RFC 9651 dates and display strings
  included; parameters parsed for validity, then ignored). The grader must stay Observatory-
  exact and ``edgeshield check`` must accept exactly what the grade accepts, so both use it.
"""

from __future__ import annotations

import re
from typing import Final

from edgeshield.errors import EdgeshieldError

# sf-token and key are the same grammar for both readers.
_TOKEN_RE: Final = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_KEY_RE: Final = re.compile(r"[a-z*][a-z0-9_\-.*]*")


# --- Dictionary (policy validation) -------------------------------------------------------


class Token(str):
    """An sf-token, kept apart from sf-string so ``self`` and ``"self"`` differ."""


class SFError(EdgeshieldError, ValueError):
    pass


_NUMBER_RE: Final = re.compile(r"-?\d{1,15}(\.\d{1,3})?")

BareItem = str | int | float | bool | bytes
Params = dict[str, BareItem]
Member = tuple[BareItem | list[tuple[BareItem, Params]], Params]


class _Parser:
    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise SFError("structured fields must be ASCII")
        self.s = text.strip(" ")
        self.i = 0

    def done(self) -> bool:
        return self.i >= len(self.s)

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.i += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.i += 1

    def key(self) -> str:
        m = _KEY_RE.match(self.s, self.i)
        if not m:
            raise SFError(f"expected a lower-case key at position {self.i}")
        self.i = m.end()
        return m.group(0)

    def bare_item(self) -> BareItem:
        c = self.peek()
        if c == '"':
            return self.string()
        if c == "?":
            self.i += 1
            b = self.peek()
            if b not in ("0", "1"):
                raise SFError("a boolean is ?0 or ?1")
            self.i += 1
            return b == "1"
        if c == ":":
            end = self.s.find(":", self.i + 1)
            if end < 0:
                raise SFError("unterminated byte sequence")
            value = self.s[self.i + 1 : end].encode()
            self.i = end + 1
            return value
        if c == "-" or c.isdigit():
            m = _NUMBER_RE.match(self.s, self.i)
            if not m:
                raise SFError(f"bad number at position {self.i}")
            self.i = m.end()
            return float(m.group(0)) if m.group(1) else int(m.group(0))
        m = _TOKEN_RE.match(self.s, self.i)
        if not m:
            raise SFError(f"unexpected character {c!r} at position {self.i}")
        self.i = m.end()
        return Token(m.group(0))

    def string(self) -> str:
        self.i += 1
        out = []
        while self.i < len(self.s):
            c = self.s[self.i]
            self.i += 1
            if c == "\\":
                nxt = self.peek()
                if nxt not in ('"', "\\"):
                    raise SFError('only \\" and \\\\ may be escaped in a string')
                out.append(nxt)
                self.i += 1
            elif c == '"':
                return "".join(out)
            elif not (" " <= c <= "~"):
                raise SFError("strings may hold printable ASCII only")
            else:
                out.append(c)
        raise SFError("unterminated string")

    def params(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.i += 1
            self.skip_sp()
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.i += 1
                value = self.bare_item()
            params[name] = value
        return params

    def item_or_inner_list(self) -> Member:
        if self.peek() == "(":
            self.i += 1
            items: list[tuple[BareItem, Params]] = []
            while True:
                self.skip_sp()
                if self.peek() == ")":
                    self.i += 1
                    return items, self.params()
                if self.done():
                    raise SFError("unterminated inner list")
                items.append((self.bare_item(), self.params()))
                if self.peek() not in (" ", ")"):
                    raise SFError(f"expected a space or ')' at position {self.i}")
        return self.bare_item(), self.params()


def parse_dictionary(text: str) -> dict[str, Member]:
    p = _Parser(text)
    out: dict[str, Member] = {}
    if p.done():
        return out
    while True:
        name = p.key()
        if p.peek() == "=":
            p.i += 1
            out[name] = p.item_or_inner_list()
        else:
            out[name] = (True, p.params())
        p.skip_ows()
        if p.done():
            return out
        if p.peek() != ",":
            raise SFError(f"expected ',' between members at position {p.i}")
        p.i += 1
        p.skip_ows()
        if p.done():
            raise SFError("trailing comma")


# --- Item token (COOP/COEP, Observatory-exact) ---------------------------------------------

# The Observatory's reader checks digit counts after matching, so its regex is looser.
_ITEM_NUMBER: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
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
        m = _ITEM_NUMBER.match(s, pos)
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
    m = _TOKEN_RE.match(s, pos)
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
            m = _KEY_RE.match(s, pos)
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
