"""The URLs a stylesheet loads, with the directive that governs each and its line.

Only what a fetch needs is recognised: ``@import`` (style-src), ``url()`` inside ``@font-face``
(font-src) and every other ``url()`` (img-src: backgrounds, masks, cursors, list and border
images). A small scanner is enough here: comments and strings are skipped as CSS tokenizes them
(https://www.w3.org/TR/css-syntax-3/), and nothing else about the stylesheet matters. The
``url()`` of an ``@namespace`` rule is a name, never fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN_RE = re.compile(
    r"""
      (?P<comment>/\*.*?(?:\*/|\Z))
    | (?P<namespace>@namespace\b[^;{}]*)
    | (?P<url>\burl\(\s*(?:"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>(?:[^'\\\n]|\\.)*)'|(?P<raw>[^)'"\s]*))\s*\))
    | (?P<import>@import\s+(?:url\(\s*)?(?:"(?P<idq>(?:[^"\\\n]|\\.)*)"|'(?P<isq>(?:[^'\\\n]|\\.)*)'|(?P<iraw>[^)'"\s;]+)))
    | (?P<fontface>@font-face\b)
    | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    | (?P<open>\{)
    | (?P<close>\})
    """,
    re.VERBOSE | re.DOTALL | re.IGNORECASE,
)
_ESCAPE_RE = re.compile(r"\\([0-9a-fA-F]{1,6}\s?|.)", re.DOTALL)


@dataclass(frozen=True)
class CssRef:
    directive: str
    url: str
    line: int  # 1-based, relative to the text scanned
    why: str


def _unescape(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body[0] in "0123456789abcdefABCDEF":
            code = int(body.strip(), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return "" if body == "\n" else body

    return _ESCAPE_RE.sub(one, value) if "\\" in value else value


def scan_css(text: str, first_line: int = 1) -> list[CssRef]:
    refs: list[CssRef] = []
    line, pos = first_line, 0
    depth = 0
    font_face_pending = False
    font_face_depth: int | None = None
    for match in _TOKEN_RE.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        kind = match.lastgroup
        if kind == "url":
            value = match.group("dq") or match.group("sq") or match.group("raw") or ""
            in_font = font_face_depth is not None
            refs.append(
                CssRef(
                    "font-src" if in_font else "img-src",
                    _unescape(value),
                    line,
                    "@font-face src" if in_font else "url() in CSS",
                )
            )
        elif kind == "import":
            value = match.group("idq") or match.group("isq") or match.group("iraw") or ""
            refs.append(CssRef("style-src", _unescape(value), line, "@import"))
        elif kind == "fontface":
            font_face_pending = True
        elif kind == "open":
            depth += 1
            if font_face_pending:
                font_face_depth, font_face_pending = depth, False
        elif kind == "close":
            if font_face_depth is not None and depth == font_face_depth:
                font_face_depth = None
            depth = max(depth - 1, 0)
    return refs
