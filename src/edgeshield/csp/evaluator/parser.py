"""A parsed CSP as the CSP Evaluator sees it, and the policy a browser of a given CSP level
actually enforces.

The evaluator is JavaScript, and its results depend on a few JavaScript behaviours that Python
does differently; they are reproduced here on purpose:

- tokens are split on ECMAScript white space (``String.prototype.trim`` and ``/\\S+/``), which
  includes U+FEFF and U+00A0 but not U+001C..U+001F or U+0085;
- directives live in a plain object, so the names ``constructor`` and ``__proto__`` already
  "exist" and are dropped like a repeated directive, and names that are array indices ("0",
  "12") come first, in numeric order, whenever the directives are listed;
- ``Array.prototype.includes`` / ``indexOf`` compare whole strings, as ``in`` does here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from edgeshield.csp.evaluator.model import EvaluatorFinding, FindingType, Severity, Version

# ECMAScript WhiteSpace + LineTerminator.
JS_WS: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_TOKEN: Final = re.compile("[^" + re.escape(JS_WS) + "]+")

SELF: Final = "'self'"
NONE: Final = "'none'"
UNSAFE_INLINE: Final = "'unsafe-inline'"
UNSAFE_EVAL: Final = "'unsafe-eval'"
STRICT_DYNAMIC: Final = "'strict-dynamic'"
UNSAFE_HASHES: Final = "'unsafe-hashes'"
KEYWORDS: Final = (
    SELF,
    NONE,
    UNSAFE_INLINE,
    UNSAFE_EVAL,
    "'wasm-eval'",
    "'wasm-unsafe-eval'",
    STRICT_DYNAMIC,
    "'unsafe-hashed-attributes'",
    UNSAFE_HASHES,
    "'report-sample'",
    "'block'",
    "'allow'",
    "'inline-speculation-rules'",
)
_KEYWORD_SET: Final = frozenset(KEYWORDS)
TRUSTED_TYPES_SINK_SCRIPT: Final = "'script'"

# Directive names the evaluator knows (CSP3, upgrade-insecure-requests, Trusted Types, and a
# few retired ones it still recognises).
DIRECTIVES: Final = (
    "child-src", "connect-src", "default-src", "font-src", "frame-src", "img-src", "media-src",
    "object-src", "script-src", "script-src-attr", "script-src-elem", "style-src",
    "style-src-attr", "style-src-elem", "prefetch-src", "manifest-src", "worker-src",
    "base-uri", "plugin-types", "sandbox", "disown-opener", "form-action", "frame-ancestors",
    "navigate-to", "report-to", "report-uri", "block-all-mixed-content",
    "upgrade-insecure-requests", "reflected-xss", "referrer", "require-sri-for",
    "trusted-types", "require-trusted-types-for", "webrtc",
)  # fmt: skip
_DIRECTIVE_SET: Final = frozenset(DIRECTIVES)
# Fetch directives fall back to default-src when absent (the evaluator's list: no prefetch-src).
FETCH_DIRECTIVES: Final = frozenset(
    {
        "child-src", "connect-src", "default-src", "font-src", "frame-src", "img-src",
        "manifest-src", "media-src", "object-src", "script-src", "script-src-attr",
        "script-src-elem", "style-src", "style-src-attr", "style-src-elem", "worker-src",
    }
)  # fmt: skip
SCRIPT_DIRECTIVES: Final = ("script-src", "script-src-attr", "script-src-elem")
# Dropped from the policy a CSP1/CSP2 browser sees.
CSP3_ONLY: Final = (
    "report-to", "worker-src", "manifest-src", "trusted-types", "require-trusted-types-for",
    "script-src-attr", "script-src-elem", "style-src-attr", "style-src-elem",
)  # fmt: skip

_URL_SCHEME: Final = re.compile(r"[a-zA-Z][+a-zA-Z0-9.-]*:")
_STRICT_NONCE: Final = re.compile(r"'nonce-[a-zA-Z0-9+/_-]+={0,2}'")
_NONCE: Final = re.compile(r"'nonce-(.+)'")
_STRICT_HASH: Final = re.compile(r"'(sha256|sha384|sha512)-[a-zA-Z0-9+/_-]+={0,2}'")
_HASH: Final = re.compile(r"'(sha256|sha384|sha512)-(.+)'")
# Names a plain JavaScript object already answers `in` for (lower-case ones only).
_OBJECT_PROTOTYPE_NAMES: Final = frozenset({"constructor", "__proto__"})


def is_directive(name: str) -> bool:
    return name in _DIRECTIVE_SET


def is_keyword(value: str) -> bool:
    return value in _KEYWORD_SET


def is_url_scheme(value: str) -> bool:
    """``https:``, ``data:``, ``chrome-extension:``: a scheme alone, with its colon."""
    return _URL_SCHEME.fullmatch(value) is not None


def nonce_value(value: str) -> str | None:
    """The text of a ``'nonce-…'`` source (any characters), else None."""
    m = _NONCE.fullmatch(value)
    return m.group(1) if m else None


def is_nonce(value: str, strict: bool = False) -> bool:
    """A nonce source; ``strict`` also requires the base64 (or base64url) alphabet."""
    return (_STRICT_NONCE if strict else _NONCE).fullmatch(value) is not None


def is_hash(value: str, strict: bool = False) -> bool:
    return (_STRICT_HASH if strict else _HASH).fullmatch(value) is not None


def js_length(text: str) -> int:
    """``String.prototype.length``: UTF-16 code units, so an emoji counts twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _array_index(name: str) -> int | None:
    if name.isascii() and name.isdigit() and (name == "0" or name[0] != "0"):
        number = int(name)
        if number < 2**32 - 1:
            return number
    return None


def js_key_order(directives: dict[str, list[str]]) -> dict[str, list[str]]:
    """The order in which JavaScript lists an object's keys: array indices first, ascending."""
    indices = [(i, k) for k in directives if (i := _array_index(k)) is not None]
    if not indices:
        return directives
    ordered = {k: directives[k] for _i, k in sorted(indices)}
    ordered.update((k, v) for k, v in directives.items() if k not in ordered)
    return ordered


def _normalize_value(value: str) -> str:
    """Keywords and bare schemes are case-insensitive; the evaluator lower-cases them."""
    lower = value.lower()
    if lower in _KEYWORD_SET or _URL_SCHEME.fullmatch(value):
        return lower
    return value


class Csp:
    """Directive name → its source list (duplicates removed), in the evaluator's order."""

    __slots__ = ("directives",)

    def __init__(self, directives: dict[str, list[str]] | None = None) -> None:
        self.directives: dict[str, list[str]] = directives if directives is not None else {}

    def clone(self) -> Csp:
        return Csp({name: list(values) for name, values in self.directives.items()})

    def effective_directive(self, directive: str) -> str:
        """The directive that governs ``directive`` here: itself, its -src parent, or
        default-src for an absent fetch directive."""
        d = self.directives
        if directive in d:
            return directive
        if directive in ("script-src-attr", "script-src-elem") and "script-src" in d:
            return "script-src"
        if directive in ("style-src-attr", "style-src-elem") and "style-src" in d:
            return "style-src"
        if directive in FETCH_DIRECTIVES:
            return "default-src"
        return directive

    def effective_directives(self, directives: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(self.effective_directive(d) for d in directives))

    def values(self, directive: str) -> list[str]:
        return self.directives.get(directive) or []

    def has_script_nonces(self, directive: str = "script-src") -> bool:
        values = self.values(self.effective_directive(directive))
        return any(v.startswith("'nonce-") and _STRICT_NONCE.fullmatch(v) for v in values)

    def has_script_hashes(self, directive: str = "script-src") -> bool:
        values = self.values(self.effective_directive(directive))
        return any(v.startswith("'sha") and _STRICT_HASH.fullmatch(v) for v in values)

    def has_strict_dynamic(self, directive: str = "script-src") -> bool:
        return STRICT_DYNAMIC in self.values(self.effective_directive(directive))


def parse(text: str) -> Csp:
    """Parse one serialized policy the way the evaluator does: split on ``;``, the first
    token is the (lower-cased) name, a repeated directive is ignored, values are de-duplicated
    and keywords/schemes lower-cased. Nothing is rejected."""
    directives: dict[str, list[str]] = {}
    for token in text.split(";"):
        parts = _TOKEN.findall(token)
        if not parts:
            continue
        name = parts[0].lower()
        if name in directives or name in _OBJECT_PROTOTYPE_NAMES:
            continue
        values: list[str] = []
        for raw in parts[1:]:
            value = _normalize_value(raw)
            if value not in values:
                values.append(value)
        directives[name] = values
    return Csp(js_key_order(directives))


def _remove_first(values: list[str], item: str) -> None:
    if item in values:
        values.remove(item)


def effective_csp(csp: Csp, version: Version, findings: list[EvaluatorFinding]) -> Csp:
    """The policy a browser supporting ``version`` enforces, with a finding for each source it
    ignores: CSP2+ ignores 'unsafe-inline' beside a nonce or hash; CSP3 ignores hosts, schemes,
    'self' and 'unsafe-inline' beside 'strict-dynamic'; older browsers ignore nonces, hashes,
    'strict-dynamic' and CSP3 directives.

    The loop runs once for each of script-src, -attr and -elem even when they resolve to the
    same directive, so a finding can be repeated; the evaluator does the same."""
    effective = csp.clone()
    for to_normalize in SCRIPT_DIRECTIVES:
        directive = effective.effective_directive(to_normalize)
        values = csp.directives.get(directive) or []
        effective_values = effective.directives.get(directive)

        if effective_values is not None and (
            effective.has_script_nonces(directive) or effective.has_script_hashes(directive)
        ):
            if version >= Version.CSP2:
                if UNSAFE_INLINE in values:
                    _remove_first(effective_values, UNSAFE_INLINE)
                    findings.append(
                        EvaluatorFinding(
                            FindingType.IGNORED,
                            Severity.NONE,
                            directive,
                            UNSAFE_INLINE,
                            "Browsers that support nonces or hashes (CSP2 and later) ignore "
                            "'unsafe-inline' when the same list has a nonce or a hash.",
                        )
                    )
            else:
                for value in values:
                    if value.startswith(("'nonce-", "'sha")):
                        _remove_first(effective_values, value)

        if effective_values is not None and csp.has_strict_dynamic(directive):
            if version >= Version.CSP3:
                for value in values:
                    if not value.startswith("'") or value in (SELF, UNSAFE_INLINE):
                        _remove_first(effective_values, value)
                        findings.append(
                            EvaluatorFinding(
                                FindingType.IGNORED,
                                Severity.NONE,
                                directive,
                                value,
                                "Ignored by CSP3 browsers: with 'strict-dynamic', host and "
                                "scheme sources, 'self' and 'unsafe-inline' do not count.",
                            )
                        )
            else:
                _remove_first(effective_values, STRICT_DYNAMIC)

    if version < Version.CSP3:
        for name in CSP3_ONLY:
            effective.directives.pop(name, None)
    return effective
