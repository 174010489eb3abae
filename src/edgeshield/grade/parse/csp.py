"""Content-Security-Policy parsing the way the Observatory does it.

Several policies are intersected: a source survives only if every policy allows it (with
path-prefix matching). A directive repeated inside one policy makes the header invalid, except
report-uri/report-to, which are only flagged. (The Observatory's
https://github.com/mdn/mdn-http-observatory/blob/main/src/analyzer/cspParser.js)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import compress
from operator import attrgetter, not_
from typing import Final

from edgeshield.grade.parse.jsstr import (
    URIError,
    collation_key,
    collation_keys,
    decode_uri_component,
    printable_collation_key,
    split_ws,
    trim,
)

# The shortest accepted policy is one character shorter than "img-src".
_SHORTEST_POLICY: Final = len("img-src") - 1
_ALLOWED_DUPLICATES: Final = frozenset({"report-uri", "report-to"})
DISALLOWED_IN_META: Final = ("frame-ancestors", "report-uri", "sandbox")
# Where the parse records the report-uri/report-to directives that were repeated.
DUPLICATES_KEY: Final = "_observatory_duplicate_warnings"

CspMap = dict[str, set[str]]


class CspInvalid(ValueError):
    """The policy cannot be parsed; the CSP test reports csp-header-invalid."""


_SEMICOLON_KEY: Final = collation_key(";")


class _Source:
    __slots__ = ("index", "keep", "key", "source")

    def __init__(self, source: str, key: str, index: int, keep: bool) -> None:
        self.source = source
        self.key = key  # collation_key(source)
        self.index = index
        self.keep = keep


_sort_key: Final = attrgetter("key")  # a C-level key function: no Python call per source


def split_policies(values: Sequence[str]) -> list[str]:
    """Every raw header value split on "," into policies (RFC 9110 list form)."""
    out: list[str] = []
    for v in values:
        if "," in v:
            out.extend(trim(p) for p in v.split(","))
        else:
            out.append(trim(v))
    return out


def _utf16_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-16-le")) // 2


def _path_part_match(a: str, b: str) -> bool:
    if not a:
        return True
    if a == "/" and not b:
        return True
    exact = not a.endswith("/")
    parts_a = a.split("/")
    parts_b = b.split("/")
    if len(parts_a) > len(parts_b):
        return False
    if exact and len(parts_a) != len(parts_b):
        return False
    if not exact:
        parts_a.pop()
    for piece_a, piece_b in zip(parts_a, parts_b, strict=False):
        if decode_uri_component(piece_a) != decode_uri_component(piece_b):
            return False
    return True


def parse_csp(policies: Sequence[str]) -> CspMap:
    """Parse and intersect policies into ``directive -> sources``; raise CspInvalid."""
    clean = [
        trim(p.replace("\r", "").replace("\n", "")) if ("\r" in p or "\n" in p) else trim(p)
        for p in policies
    ]
    if not clean:
        return {}
    for p in clean:
        if len(p) < _SHORTEST_POLICY and (not p or _utf16_len(p) < _SHORTEST_POLICY):
            raise CspInvalid(p)
    if len(clean) == 1:
        return _parse_single(clean[0])
    try:
        return _parse_many(clean)
    except URIError as exc:
        # Intersecting paths decodes %-escapes; a malformed one makes the policy unreadable.
        raise CspInvalid(str(exc)) from exc


def _entries(policy: str) -> Iterator[tuple[list[str], list[str]]]:
    """The ";"-separated entries of a lower-cased policy: their tokens, and the tokens' collation
    keys (``Intl.Collator`` order), computed for the whole policy at once when it is plain ASCII.
    """
    keyed = printable_collation_key(policy)
    if keyed is None:
        yield from map(_entry, policy.split(";"))
        return
    # Printable ASCII: the space is the only whitespace, in the policy as in its key.
    for entry, key in zip(policy.split(";"), keyed.split(_SEMICOLON_KEY), strict=True):
        yield entry.split() or [""], key.split()


def _entry(entry: str) -> tuple[list[str], list[str]]:
    """One entry's tokens and their keys, in a policy that is not plain ASCII as a whole."""
    keyed = printable_collation_key(entry)
    if keyed is not None:
        return entry.split() or [""], keyed.split()
    tokens = split_ws(entry)
    return tokens, collation_keys(tokens)


def _parse_single(policy: str) -> CspMap:
    """One policy: no intersection, only sources made redundant by a shorter prefix go."""
    out: CspMap = {}
    seen: set[str] = set()
    duplicates: set[str] | None = None
    # Lower-casing creates and removes no whitespace, so the policy is lowered once, whole.
    for tokens, keys in _entries(policy.lower()):
        directive = tokens[0]
        if not directive:
            continue
        if directive in seen:
            if directive not in _ALLOWED_DUPLICATES:
                raise CspInvalid(f"duplicate directive {directive}")
            if duplicates is None:
                duplicates = set()
            duplicates.add(directive)
        else:
            seen.add(directive)
        n = len(tokens)
        if n == 1:
            # No sources: a *-src directive means 'none', and an emptied directive reads as
            # 'none' too.
            out[directive] = {"'none'"}
            continue
        if n == 2:
            out[directive] = {tokens[1]}
            continue
        out[directive] = _without_longer(tokens, keys)
    if duplicates:
        out[DUPLICATES_KEY] = duplicates
    return out


def _without_longer(tokens: list[str], keys: list[str]) -> set[str]:
    """A directive's sources (``tokens[1:]``) in collation order, less each source that starts
    with the one sorted just before it: it adds nothing to that one."""
    # C-level loops (map, compress) instead of a Python loop per source: policies are long.
    ordered = list(map(tokens.__getitem__, sorted(range(1, len(tokens)), key=keys.__getitem__)))
    later = ordered[1:]
    kept = set(compress(later, map(not_, map(str.startswith, later, ordered))))
    kept.add(ordered[0])
    return kept


def _parse_many(policies: list[str]) -> CspMap:
    csp: dict[str, list[_Source]] = {}
    duplicates: set[str] = set()
    for index, policy in enumerate(policies):
        seen: set[str] = set()
        first = index == 0
        for tokens, keys in _entries(policy.lower()):
            directive = tokens[0]
            if not directive:
                continue
            if directive in seen:
                if directive not in _ALLOWED_DUPLICATES:
                    raise CspInvalid(f"duplicate directive {directive}")
                duplicates.add(directive)
            else:
                seen.add(directive)
            values = [_Source(tokens[i], keys[i], index, first) for i in range(1, len(tokens))]
            if not values and directive.endswith("-src"):
                values = [_Source("'none'", collation_key("'none'"), index, first)]
            csp[directive] = _intersect(values if first else [*csp.get(directive, ()), *values])
            if first:
                # Later policies must re-confirm every source of the first one.
                for s in csp[directive]:
                    s.keep = False
    out: CspMap = {
        directive: ({s.source for s in sources} if sources else {"'none'"})
        for directive, sources in csp.items()
    }
    if duplicates:
        out[DUPLICATES_KEY] = duplicates
    return out


def _intersect(combined: list[_Source]) -> list[_Source]:
    """A directive's sources so far with this policy's: the ones still allowed."""
    if len(combined) > 1:
        combined.sort(key=_sort_key)
        prev = combined[0]
        for src in combined[1:]:
            if src.index == prev.index and src.source.startswith(prev.source):
                src.keep = False
            # A source counts only if another policy allows it too.
            if src.index != prev.index and _path_part_match(prev.source, src.source):
                src.keep = True
            prev = src
    return [s for s in combined if s.keep]


def parse_csp_meta(policies: Sequence[str]) -> CspMap:
    """Policies from <meta http-equiv>, without the directives only a header may carry."""
    out = parse_csp(policies)
    for directive in DISALLOWED_IN_META:
        out.pop(directive, None)
    return out


__all__ = [
    "DISALLOWED_IN_META",
    "DUPLICATES_KEY",
    "CspInvalid",
    "CspMap",
    "URIError",
    "parse_csp",
    "parse_csp_meta",
    "split_policies",
]
