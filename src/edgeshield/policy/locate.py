"""Map dotted key paths of a TOML document to line numbers.

``tomllib`` reports no positions, yet every policy problem must name its line. This scanner
understands the subset of TOML layout that matters for that: ``[table]`` and ``[[array]]``
headers, ``key = value`` lines (bare, quoted and dotted keys) and keys inside inline tables on the
same line. Anything it cannot place falls back to the nearest enclosing path it knows.
"""

from __future__ import annotations

import re

_TABLE_RE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ARRAY_RE = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_KEY_RE = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_INLINE_KEY_RE = re.compile(r"""[{,]\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")
_PART_RE = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _split_key(text: str) -> list[str]:
    return [p[1:-1] if p[0] in "\"'" else p for p in _PART_RE.findall(text)]


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
        for number, raw in enumerate(text.splitlines(), start=1):
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
            depth += line.count("[") + line.count("{") - line.count("]") - line.count("}")
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
