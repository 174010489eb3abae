"""A small RFC 8941 (Structured Field Values) dictionary parser: enough to validate
Permissions-Policy and Reporting-Endpoints (COOP/COEP items go through the grader's
``grade.sfitem.item_token``, so the policy and the grade agree). Values are returned as
Python objects: tokens as ``Token`` (a str subclass), strings as str, inner lists as lists.
"""

from __future__ import annotations

import re

from edgeshield.errors import EdgeshieldError


class Token(str):
    """An sf-token, kept apart from sf-string so ``self`` and ``"self"`` differ."""


class SFError(EdgeshieldError, ValueError):
    pass


_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN_RE = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER_RE = re.compile(r"-?\d{1,15}(\.\d{1,3})?")

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
