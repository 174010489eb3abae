"""Content-Security-Policy: directive catalog, source-expression checks and rendering.

Checks are CSP Level 3 (W3C) plus what browsers actually do today. Each finding is a
``(path_suffix, what, fix, severity)`` tuple so the loader can attach file and line.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import re
from collections.abc import Callable, Iterable

from edgeshield.policy.problems import Finding

FETCH_DIRECTIVES = frozenset(
    {
        "default-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "font-src",
        "connect-src",
        "media-src",
        "object-src",
        "frame-src",
        "child-src",
        "worker-src",
        "manifest-src",
        "fenced-frame-src",
    }
)
# Directives that take something other than a source list.
OTHER_DIRECTIVES = frozenset(
    {
        "base-uri",
        "form-action",
        "frame-ancestors",
        "sandbox",
        "report-uri",
        "report-to",
        "upgrade-insecure-requests",
        "require-trusted-types-for",
        "trusted-types",
        "webrtc",
    }
)
KNOWN_DIRECTIVES = FETCH_DIRECTIVES | OTHER_DIRECTIVES
# Directives that no current browser enforces: they only cost bytes.
DEAD_DIRECTIVES = {
    "block-all-mixed-content": "mixed content is blocked by default in current browsers",
    "plugin-types": "plugins are gone from browsers; use object-src 'none'",
    "require-sri-for": "no browser ships it",
    "navigate-to": "it was removed from the CSP specification",
    "prefetch-src": "it was removed from the CSP specification",
    "referrer": "use the Referrer-Policy header",
    "reflected-xss": "it was removed; X-XSS-Protection is obsolete too",
    "disown-opener": "use Cross-Origin-Opener-Policy",
}
# Ignored by browsers in a Report-Only policy (CSP3 §3.2 and the directive definitions).
IGNORED_IN_REPORT_ONLY = frozenset({"sandbox", "upgrade-insecure-requests"})
SOURCE_LIST_DIRECTIVES = FETCH_DIRECTIVES | {"base-uri", "form-action", "frame-ancestors"}
NO_VALUE_DIRECTIVES = frozenset({"upgrade-insecure-requests"})

KEYWORDS = frozenset(
    {
        "'self'",
        "'none'",
        "'unsafe-inline'",
        "'unsafe-eval'",
        "'strict-dynamic'",
        "'unsafe-hashes'",
        "'report-sample'",
        "'wasm-unsafe-eval'",
        "'inline-speculation-rules'",
    }
)
_BARE_KEYWORDS = {k.strip("'"): k for k in KEYWORDS}
SANDBOX_TOKENS = frozenset(
    {
        "allow-downloads",
        "allow-forms",
        "allow-modals",
        "allow-orientation-lock",
        "allow-pointer-lock",
        "allow-popups",
        "allow-popups-to-escape-sandbox",
        "allow-presentation",
        "allow-same-origin",
        "allow-scripts",
        "allow-storage-access-by-user-activation",
        "allow-top-navigation",
        "allow-top-navigation-by-user-activation",
        "allow-top-navigation-to-custom-protocols",
    }
)
_HASH_BYTES = {"sha256": 32, "sha384": 48, "sha512": 64}
_NONCE_RE = re.compile(r"^'nonce-([A-Za-z0-9+/_-]+={0,2})'$")
_HASH_RE = re.compile(r"^'(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})'$", re.IGNORECASE)
_UNQUOTED_NONCE_OR_HASH_RE = re.compile(r"^(?:nonce|sha256|sha384|sha512)-", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:$")
# host-source: [scheme://](*.|)host[:port|:*][path]
_HOST_RE = re.compile(
    r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?"
    r"(?:\*|(?:\*\.)?[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:.]+\])"
    r"(?::(?:\d{1,5}|\*))?"
    r"(?:/[^\s;,]*)?$"
)
_WILDCARDS = frozenset({"*", "http:", "https:", "ftp:", "http://*", "https://*", "data:"})
_VALUE_CHARS_RE = re.compile(r"[;,\s]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _hint(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def check_source(directive: str, source: str) -> list[Finding]:
    """Problems with one source expression in a source-list directive."""
    lower = source.lower()
    if source in KEYWORDS or lower in KEYWORDS:
        return []
    if (control := _CONTROL_RE.search(source)) is not None:
        return [
            (
                directive,
                f"source {source!r} holds the control character {control.group(0)!r}",
                "header values may not contain control characters (CloudFront rejects them "
                "with a 502); remove it",
                "error",
            )
        ]
    if source.startswith("'"):
        return _quoted_source(directive, source)
    return _unquoted_source(directive, source, lower)


def _unquoted_source(where: str, source: str, lower: str) -> list[Finding]:
    """A keyword, nonce or hash that lost its quotes, else a scheme or host source."""
    if lower in _BARE_KEYWORDS:
        quoted = _BARE_KEYWORDS[lower]
        return [
            (
                where,
                f"keyword {source!r} is not quoted, so browsers read it as a host name",
                f"write {quoted!r} (with the single quotes)",
                "error",
            )
        ]
    if _UNQUOTED_NONCE_OR_HASH_RE.match(source):
        return [
            (
                where,
                f"{source!r} is not quoted, so browsers read it as a host name and it allows nothing",
                f"write {chr(39) + source + chr(39)!r} (with the single quotes)",
                "error",
            )
        ]
    return _host_source(where, source)


def _quoted_source(where: str, source: str) -> list[Finding]:
    """A quoted source that is not a plain keyword: a nonce, a hash, or a mistake."""
    if source.startswith("'nonce-"):
        if not _NONCE_RE.match(source):
            return [
                (
                    where,
                    f"malformed nonce {source!r}",
                    "a nonce is 'nonce-<base64 value>' with the quotes, e.g. 'nonce-r4nd0m+Base64=='",
                    "error",
                )
            ]
        return [
            (
                where,
                f"fixed nonce {source!r}: a policy compiled into the function sends the same nonce on every response, so an attacker can reuse it",
                "use 'sha256-…' hashes of the inline scripts instead (the edge cannot see or rewrite the HTML to place a fresh nonce)",
                "warning",
            )
        ]
    if source.lower().startswith(("'sha256-", "'sha384-", "'sha512-")):
        if _hash_ok(source):
            return []
        return [
            (
                where,
                f"malformed hash {source!r}",
                "a hash is 'sha256-<base64 of the 32-byte digest>' (or sha384/48, sha512/64 bytes), quoted",
                "error",
            )
        ]
    return [
        (
            where,
            f"unknown keyword {source!r}",
            "allowed keywords: " + ", ".join(sorted(KEYWORDS)) + ", 'nonce-…', 'sha256-…'",
            "error",
        )
    ]


def _hash_ok(source: str) -> bool:
    """A hash source whose base64 (either alphabet) decodes to its algorithm's digest size."""
    match = _HASH_RE.match(source)
    if not match:
        return False
    algorithm, digest = match.group(1).lower(), match.group(2)
    try:
        raw = base64.b64decode(digest.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == _HASH_BYTES[algorithm]


def _host_source(where: str, source: str) -> list[Finding]:
    """A scheme or host source: valid, and warned about when it allows too much."""
    if _VALUE_CHARS_RE.search(source):
        return [
            (
                where,
                f"source {source!r} contains a space, ';' or ','",
                "give each source as its own list item; directives are separate keys",
                "error",
            )
        ]
    if not (_SCHEME_RE.match(source) or _HOST_RE.match(source)):
        return [
            (
                where,
                f"invalid source expression {source!r}",
                "use a keyword like 'self', a scheme like https:, a host like cdn.example.com or https://*.example.com:443/path, a nonce or a hash",
                "error",
            )
        ]
    findings: list[Finding] = []
    lower = source.lower()
    if lower in _WILDCARDS and where in ("script-src", "script-src-elem", "default-src"):
        findings.append(
            (
                where,
                f"{source!r} allows scripts from almost anywhere",
                "list the exact origins you load scripts from, or use hashes",
                "warning",
            )
        )
    elif lower in ("*", "http:", "https:", "http://*", "https://*"):
        findings.append(
            (where, f"wildcard source {source!r}", "list the exact origins instead", "warning")
        )
    if lower.startswith("http:") or lower.startswith("http://"):
        findings.append(
            (
                where,
                f"insecure scheme in {source!r}",
                "use https:// so the resource cannot be swapped in transit",
                "warning",
            )
        )
    return findings


# frame-ancestors takes only hosts, schemes, 'self' and 'none' (CSP3 ancestor-source-list);
# browsers drop anything else from it. base-uri and form-action parse any source, but the
# script keywords, nonces and hashes mean nothing for a navigation.
_SCRIPT_ONLY_RE = re.compile(
    r"^'(?:unsafe-inline|unsafe-eval|strict-dynamic|unsafe-hashes|wasm-unsafe-eval|"
    r"report-sample|inline-speculation-rules|nonce-.*|sha(?:256|384|512)-.*)'$",
    re.IGNORECASE,
)


def _navigation_source(directive: str, source: str) -> list[Finding]:
    if directive not in ("frame-ancestors", "base-uri", "form-action"):
        return []
    if not _SCRIPT_ONLY_RE.match(source):
        return []
    if directive == "frame-ancestors":
        return [
            (
                directive,
                f"frame-ancestors does not take {source!r}: browsers ignore it there",
                "use 'none', 'self', hosts (https://app.example) or schemes (https:)",
                "error",
            )
        ]
    return [
        (
            directive,
            f"{source!r} means nothing in {directive}",
            "use 'none', 'self', hosts or schemes",
            "warning",
        )
    ]


# A report URL: a path or absolute URL in ASCII without whitespace, ';' or ',' (they would split
# the directive), sent to over HTTPS (the Reporting API ignores endpoints that are not).
_TRUSTWORTHY_HTTP_RE = re.compile(
    r"^http://(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?:[:/]|$)", re.I
)


def check_report_url(where: str, url: str, *, secure_only: bool) -> list[Finding]:
    """Problems with one reporting URL (CSP report-uri, a Reporting-Endpoints entry)."""
    if not url.isascii():
        return [
            (
                where,
                f"report URL {url!r} holds characters outside ASCII",
                "percent-encode them (e.g. é as %C3%A9)",
                "error",
            )
        ]
    if re.search(r"[\s;,\x00-\x1f\x7f\"]", url):
        return [
            (
                where,
                f"report URL {url!r} holds a space, quote, ';' or ','",
                "percent-encode it (a space is %20) or give each URL as its own list item",
                "error",
            )
        ]
    scheme = url.split(":", 1)[0].lower() if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url) else ""
    if scheme and scheme not in ("http", "https"):
        return [
            (
                where,
                f"report URL {url!r} uses {scheme}:",
                "reports go to https:// URLs or paths on your site",
                "error",
            )
        ]
    if scheme == "http" and not _TRUSTWORTHY_HTTP_RE.match(url):
        if secure_only:
            return [
                (
                    where,
                    f"report URL {url!r} is http://, and browsers ignore endpoints that are not https",
                    "use https:// or a path on your site",
                    "error",
                )
            ]
        return [
            (
                where,
                f"report URL {url!r} is http://: reports (page URLs, blocked URLs) travel unencrypted",
                "use https:// or a path on your site",
                "warning",
            )
        ]
    return []


def check_directives(directives: dict[str, list[str]], mode: str) -> list[Finding]:
    """Validate a whole policy given as directive -> sources (names already lower-cased)."""
    findings: list[Finding] = []
    for name, sources in directives.items():
        findings.extend(_check_directive(name, sources, mode))
    findings.extend(_check_script_policy(directives))
    if mode == "report-only" and not ({"report-uri", "report-to"} & directives.keys()):
        findings.append(
            (
                "mode",
                "report-only policy without report-uri or report-to",
                'violations go nowhere; add report-uri = ["/_edgeshield/csp-report"]',
                "warning",
            )
        )
    return findings


def _check_directive(name: str, sources: list[str], mode: str) -> list[Finding]:
    """One directive: known and alive, then its value by the kind of directive it is."""
    if name in DEAD_DIRECTIVES:
        return [(name, f"directive {name!r} does nothing", DEAD_DIRECTIVES[name], "warning")]
    if name not in KNOWN_DIRECTIVES:
        hint = _hint(name, KNOWN_DIRECTIVES)
        return [
            (
                name,
                f"unknown directive {name!r}",
                hint or "see the CSP Level 3 directive list in docs/policy.md",
                "error",
            )
        ]
    findings: list[Finding] = []
    if mode == "report-only" and name in IGNORED_IN_REPORT_ONLY:
        findings.append(
            (
                name,
                f"{name!r} is ignored in a report-only policy",
                "move it to an enforced policy or remove it",
                "warning",
            )
        )
    if name in NO_VALUE_DIRECTIVES:
        if sources:
            findings.append((name, f"{name!r} takes no value", "use an empty list: []", "error"))
    elif name in SOURCE_LIST_DIRECTIVES:
        findings.extend(_check_source_list(name, sources))
    elif (check := _VALUE_CHECKS.get(name)) is not None:
        findings.extend(check(sources))
    return findings


def _check_source_list(name: str, sources: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    if not sources:
        findings.append(
            (
                name,
                f"{name} has no sources, which browsers read as 'none'",
                "write [\"'none'\"] if that is what you mean",
                "warning",
            )
        )
    if "'none'" in (s.lower() for s in sources) and len(sources) > 1:
        findings.append(
            (
                name,
                "'none' combined with other sources",
                "'none' must be the only source; drop it or the others",
                "error",
            )
        )
    for source in sources:
        found = check_source(name, source)
        findings.extend(_navigation_source(name, source) or found)
    return findings


def _check_sandbox(sources: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    for token in sources:
        if token.lower() not in SANDBOX_TOKENS:
            hint = _hint(token.lower(), SANDBOX_TOKENS)
            findings.append(
                (
                    "sandbox",
                    f"unknown sandbox flag {token!r}",
                    hint or "allowed: " + ", ".join(sorted(SANDBOX_TOKENS)),
                    "error",
                )
            )
    return findings


def _check_report_to(sources: list[str]) -> list[Finding]:
    if len(sources) == 1:
        return []
    return [
        (
            "report-to",
            "report-to takes exactly one endpoint name",
            'e.g. report-to = ["csp"] with a matching Reporting-Endpoints entry',
            "error",
        )
    ]


def _check_report_uri(sources: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    if not sources:
        findings.append(
            (
                "report-uri",
                "report-uri has no URL",
                'e.g. report-uri = ["/_edgeshield/csp-report"]',
                "error",
            )
        )
    for url in sources:
        findings.extend(check_report_url("report-uri", url, secure_only=False))
    return findings


def _check_trusted_types(sources: list[str]) -> list[Finding]:
    if sources == ["'script'"]:
        return []
    bare = [s for s in sources if s.lower() == "script"]
    return [
        (
            "require-trusted-types-for",
            "require-trusted-types-for takes exactly 'script'"
            + (" with the single quotes" if bare else f", not {' '.join(sources) or 'nothing'!r}"),
            "write require-trusted-types-for = [\"'script'\"]; browsers ignore anything else",
            "error",
        )
    ]


# Directives whose value is not a source list, by name -> the check of their value.
_VALUE_CHECKS: dict[str, Callable[[list[str]], list[Finding]]] = {
    "sandbox": _check_sandbox,
    "report-to": _check_report_to,
    "report-uri": _check_report_uri,
    "require-trusted-types-for": _check_trusted_types,
}


def _check_script_policy(directives: dict[str, list[str]]) -> list[Finding]:
    name = "script-src" if "script-src" in directives else "default-src"
    sources = [s.lower() for s in directives.get(name, [])]
    findings: list[Finding] = []
    has_nonce_or_hash = any(
        s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources
    )
    if "'strict-dynamic'" in sources and not has_nonce_or_hash:
        findings.append(
            (
                name,
                "'strict-dynamic' without a nonce or hash blocks every script",
                "add the 'sha256-…' hash of your loader script, or remove 'strict-dynamic'",
                "error",
            )
        )
    if "'unsafe-inline'" in sources and not has_nonce_or_hash:
        findings.append(
            (
                name,
                "'unsafe-inline' lets injected inline scripts run, which defeats most of CSP",
                "move inline scripts to files, or allow each one by its 'sha256-…' hash",
                "warning",
            )
        )
    if "'unsafe-eval'" in sources:
        findings.append(
            (
                name,
                "'unsafe-eval' lets strings run as code (eval, new Function)",
                "remove it; if WebAssembly needs it, use 'wasm-unsafe-eval'",
                "warning",
            )
        )
    return findings


def parse_raw(value: str) -> tuple[dict[str, list[str]], list[str]]:
    """Split a raw policy string into directives. Returns the directives and the names that
    appear more than once (browsers keep the first and ignore the rest)."""
    directives: dict[str, list[str]] = {}
    duplicates: list[str] = []
    for part in value.split(";"):
        tokens = split_ascii_whitespace(part)
        if not tokens:
            continue
        name = tokens[0].lower()
        if name in directives:
            duplicates.append(name)
            continue
        directives[name] = tokens[1:]
    return directives, duplicates


_ASCII_WHITESPACE_RE = re.compile(r"[\t\n\f\r ]+")


def split_ascii_whitespace(text: str) -> list[str]:
    """Tokens split the way CSP splits them: on ASCII whitespace only. Python's str.split()
    also splits on U+0085, U+00A0 and others, which would hide them from the checks."""
    return [t for t in _ASCII_WHITESPACE_RE.split(text) if t]


def render(directives: dict[str, list[str]]) -> str:
    """Directives -> header value, in the order given."""
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())
