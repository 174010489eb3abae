"""Map dotted key paths of a TOML document to line numbers.

``tomllib`` reports no positions, yet every policy problem must name its line. This scanner
understands the subset of TOML layout that matters for that: ``[table]`` and ``[[array]]``
headers, ``key = value`` lines (bare, quoted and dotted keys) and keys inside inline tables on the
same line. Anything it cannot place falls back to the nearest enclosing path it knows.
"""

from __future__ import annotations

import re
import tomllib

_TABLE_RE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ARRAY_RE = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_KEY_RE = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_INLINE_KEY_RE = re.compile(r"""[{,]\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")
_PART_RE = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _unquote(part: str) -> str:
    if part[0] == "'":
        return part[1:-1]  # literal string: no escapes
    if part[0] == '"':
        try:  # basic string: let TOML itself decode the escapes
            return str(tomllib.loads(f"k = {part}")["k"])
        except tomllib.TOMLDecodeError:
            return part[1:-1]
    return part


def _split_key(text: str) -> list[str]:
    return [_unquote(p) for p in _PART_RE.findall(text)]


_STRING_RE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


def _without_strings(line: str) -> str:
    """The line with its one-line strings blanked, so brackets inside them are not counted."""
    return _STRING_RE.sub('""', line)


def _join(parts: list[str]) -> str:
    return ".".join(parts)


class LineIndex:
    """Dotted path -> line number (1-based). Array-of-tables entries are indexed,
    e.g. ``rules.0.match.path``."""

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        counters: dict[str, int] = {}
        table: list[str] = []
        depth = 0  # open brackets of a multi-line array/inline table: keys inside are values
        multiline: str | None = None  # the delimiter of a multi-line string we are inside
        for number, raw in enumerate(text.splitlines(), start=1):
            if multiline is not None:
                if raw.count(multiline) % 2 == 1:
                    multiline = None
                continue
            for delimiter in ('"""', "'''"):
                if raw.count(delimiter) % 2 == 1:
                    multiline = delimiter
            line = raw.split("#", 1)[0] if '"' not in raw and "'" not in raw else raw
            if depth == 0:
                array = _ARRAY_RE.match(raw)
                if array:
                    name = _join(_split_key(array.group(1)))
                    index = counters.get(name, -1) + 1
                    counters[name] = index
                    table = [*_split_key(array.group(1)), str(index)]
                    self.lines.setdefault(_join(table), number)
                    self.lines.setdefault(name, number)
                    continue
                header = _TABLE_RE.match(raw)
                if header:
                    table = self._resolve(_split_key(header.group(1)), counters)
                    self.lines.setdefault(_join(table), number)
                    continue
                key = _KEY_RE.match(line)
                if key:
                    path = [*table, *_split_key(key.group(1))]
                    self.lines.setdefault(_join(path), number)
                    rest = line[key.end() :]
                    for inner in _INLINE_KEY_RE.finditer(rest):
                        self.lines.setdefault(_join([*path, *_split_key(inner.group(1))]), number)
            # With strings blanked, any "#" left starts a comment.
            bare = _without_strings(raw).split("#", 1)[0]
            depth += bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")
            # Headers like [table] balance themselves; a stray negative means we lost track.
            depth = max(depth, 0)

    @staticmethod
    def _resolve(parts: list[str], counters: dict[str, int]) -> list[str]:
        """[rules.set] inside an array of tables refers to the latest ``rules`` entry."""
        for cut in range(len(parts), 0, -1):
            prefix = _join(parts[:cut])
            if prefix in counters:
                return [*parts[:cut], str(counters[prefix]), *parts[cut:]]
        return parts

    def line_of(self, path: str) -> int:
        """The line of ``path`` or of its nearest known parent; 1 when nothing matches."""
        parts = path.split(".")
        while parts:
            found = self.lines.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return 1
