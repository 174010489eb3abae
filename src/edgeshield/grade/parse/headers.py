"""Response headers as the Observatory's HTTP client sees them.

The Observatory fetches with Node's HTTP client, which folds a repeated header line into one
value joined with ", " (keeping only the first line for a few single-valued headers) and keeps
Set-Cookie lines apart. We fold the same way, so a header repeated by an origin and an edge
grades as the live scanner would grade it: invalid for XFO, HSTS, COOP, COEP, CORP, ...
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

# Node's http module keeps only the first line of these (lib/_http_incoming.js).
_FIRST_LINE_ONLY: Final = frozenset(
    {
        "age",
        "authorization",
        "content-length",
        "content-type",
        "etag",
        "expires",
        "from",
        "host",
        "if-modified-since",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "proxy-authorization",
        "referer",
        "retry-after",
        "server",
        "user-agent",
    }
)


_OWS: Final = " \t"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        # Header bytes are read as latin-1 by Node: every byte maps to one character.
        return bytes(value).decode("latin-1")
    return str(value)


def _field(value: Any) -> str:
    """A field value as an HTTP parser hands it over: without surrounding spaces and tabs."""
    return _text(value).strip(_OWS)


class Headers:
    """Folded response headers: lower-case name -> value, plus the Set-Cookie lines."""

    __slots__ = ("get", "set_cookie", "values")
    # The folded value of a lower-case name, or None: the dict's own C-level ``get``, bound
    # once, as every test of every grade reads headers through it.
    get: Callable[[str], str | None]

    def __init__(self, values: dict[str, str], set_cookie: list[str]) -> None:
        self.values = values
        self.set_cookie = set_cookie
        self.get = values.get

    def __contains__(self, name: object) -> bool:
        return name in self.values or (name == "set-cookie" and bool(self.set_cookie))

    def items(self) -> Iterable[tuple[str, str]]:
        yield from self.values.items()
        for line in self.set_cookie:
            yield "set-cookie", line

    def to_dict(self) -> dict[str, str | list[str]]:
        out: dict[str, str | list[str]] = dict(self.values)
        if self.set_cookie:
            out["set-cookie"] = list(self.set_cookie)
        return out

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[Any, Any]]) -> Headers:
        """Fold raw (name, value) header lines in wire order."""
        values: dict[str, str] = {}
        cookies: list[str] = []
        for raw_name, raw_value in pairs:
            name = _text(raw_name).lower()
            value = _field(raw_value)
            if name == "set-cookie":
                cookies.append(value)
            elif name not in values:
                values[name] = value
            elif name not in _FIRST_LINE_ONLY:
                values[name] = values[name] + ", " + value
        return cls(values, cookies)

    @classmethod
    def from_mapping(cls, headers: Mapping[Any, Any] | Headers) -> Headers:
        """Accept ``{name: str | bytes | list[str | bytes]}``; a list is a repeated header line."""
        if isinstance(headers, Headers):
            return headers
        values: dict[str, str] = {}
        cookies: list[str] = []
        for raw_name, raw_value in headers.items():
            name = raw_name if type(raw_name) is str else _text(raw_name)
            if not name.islower():
                name = name.lower()
            if type(raw_value) is str:
                lines: list[str] = [raw_value.strip(_OWS)]
            elif isinstance(raw_value, list | tuple):
                lines = [_field(v) for v in raw_value]
                if not lines:
                    continue
            else:
                lines = [_field(raw_value)]
            if name == "set-cookie":
                cookies.extend(lines)
                continue
            if name in _FIRST_LINE_ONLY:
                value = lines[0]
            else:
                value = lines[0] if len(lines) == 1 else ", ".join(lines)
            # Two spellings of one name ("X-Frame-Options" and "x-frame-options") are two lines.
            old = values.get(name)
            if old is None:
                values[name] = value
            elif name not in _FIRST_LINE_ONLY:
                values[name] = old + ", " + value
        return cls(values, cookies)


_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_header_block(text: str) -> list[tuple[str, str]] | None:
    """Header lines as ``curl -sI`` prints them; None if the text is not such a dump.

    With several responses (``curl -sIL`` follows redirects) the last one counts. A status line
    is optional; continuation lines (leading space or tab) extend the previous value.
    """
    blocks: list[list[tuple[str, str]]] = [[]]
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("HTTP/"):
            blocks.append([])
            continue
        if line[0] in " \t":
            if not blocks[-1]:
                return None
            name, value = blocks[-1][-1]
            blocks[-1][-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            return None
        blocks[-1].append((name, value.strip(" \t")))
    last = next((b for b in reversed(blocks) if b), None)
    return last
