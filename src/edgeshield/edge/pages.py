"""Per-page CSP: the policy's CSP for one request path, looked up in O(1).

The compiled table (``csp_pages`` in policy.json, built by ``edgeshield csp fit``) holds the base
CSP split into its directives, a list of variants (which directives a page replaces, index -1 =
appended) and request path -> variant. A variant's header entry is built on first use and kept.
Stdlib only; no I/O.
"""

from __future__ import annotations

from urllib.parse import unquote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MAX_CACHED = 4096  # request paths remembered; beyond that a page's entry is rebuilt (a few µs)


class PageCsp:
    __slots__ = ("_cache", "base", "key", "name", "parts", "paths", "variants")

    def __init__(self, data: dict[str, Any], replace: dict[str, Any]) -> None:
        """``replace``: the base plan's headers; the policy's own CSP value is taken from it so
        the engine's check that a response carries that CSP is an identity test."""
        self.name: str = data["name"]
        self.key: str = data["key"]
        self.base: str = data["base"]
        current = replace.get(self.name)
        if current is not None and current[0]["value"] == self.base:
            self.base = current[0]["value"]
        self.parts: list[str] = data["parts"]
        self.variants: list[list[list[Any]]] = data["variants"]
        self.paths: dict[str, int] = with_decoded_paths(data["paths"])
        self._cache: dict[str, list[dict[str, str]]] = {}

    def entry(self, uri: str) -> list[dict[str, str]] | None:
        """The header entry for ``uri``, or None when the page has no sources of its own.
        Only pages are remembered, so requests for random paths cannot crowd them out."""
        entry = self._cache.get(uri)
        if entry is None:
            index = self.paths.get(uri)
            if index is None and "%" in uri:
                # S3 finds an object by its decoded key, however the viewer encoded the path
                # (/page(1).html, /page%281%29.html and lower-case hex reach one object).
                index = self.paths.get(unquote(uri))
            if index is None:
                return None
            parts = list(self.parts)
            for position, text in self.variants[index]:
                if position < 0:
                    parts.append(text)
                else:
                    parts[position] = text
            entry = [{"key": self.key, "value": "; ".join(parts)}]
            if len(self._cache) < _MAX_CACHED:
                self._cache[uri] = entry
        return entry


def with_decoded_paths(paths: dict[str, int]) -> dict[str, int]:
    """``paths`` plus each percent-encoded path's decoded form (the key S3 looks up), so a
    request that encodes a page's path another way finds its entry once decoded."""
    out = dict(paths)
    for path, index in paths.items():
        if "%" in path:
            out.setdefault(unquote(path), index)
    return out
