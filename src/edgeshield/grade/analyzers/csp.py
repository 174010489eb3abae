"""content-security-policy: the enforced policy from headers and <meta http-equiv>."""

from __future__ import annotations

from typing import Any, Final

from edgeshield.grade.model import Outcome
from edgeshield.grade.parse.csp import (
    DUPLICATES_KEY,
    CspInvalid,
    CspMap,
    URIError,
    parse_csp,
    parse_csp_meta,
    split_policies,
)

NAME: Final = "content-security-policy"

DANGEROUSLY_BROAD: Final = frozenset(
    {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
)
_BROAD_PREFIXES: Final = tuple(DANGEROUSLY_BROAD)
UNSAFE_INLINE: Final = frozenset({"'unsafe-inline'", "data:"})
BROAD_OR_INLINE: Final = DANGEROUSLY_BROAD | UNSAFE_INLINE
PASSIVE_DIRECTIVES: Final = ("img-src", "media-src")
_NONCE_OR_HASH: Final = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
_INSECURE_SCHEMES: Final = ("http:", "ftp:")
_STAR: Final = frozenset({"*"})

# Results that count as a pass: the expected one plus three that still do.
_PASSING: Final = frozenset(
    {
        "csp-implemented-with-no-unsafe",
        "csp-implemented-with-no-unsafe-default-src-none",
        "csp-implemented-with-unsafe-inline-in-style-src-only",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
    }
)


def _has_nonce_or_hash(sources: set[str]) -> bool:
    return any(s.startswith(_NONCE_OR_HASH) for s in sources)


class CspAnalysis:
    """The CSP outcome plus the parsed policy the X-Frame-Options test reads."""

    __slots__ = ("data", "outcome")

    def __init__(self, outcome: Outcome, data: CspMap | None) -> None:
        self.outcome = outcome
        self.data = data


class _Parsed:
    """The policies a page delivers: all of them together (None: invalid), headers and meta apart."""

    __slots__ = ("csp", "header_only", "http_count", "meta_count", "meta_only")

    def __init__(
        self,
        csp: CspMap | None,
        header_only: CspMap,
        meta_only: CspMap,
        http_count: int,
        meta_count: int,
    ) -> None:
        self.csp = csp
        self.header_only = header_only
        self.meta_only = meta_only
        self.http_count = http_count
        self.meta_count = meta_count


def _parse(header: str | None, meta_policies: list[str]) -> _Parsed:
    """Parse the header and meta policies together, then each kind on its own.

    A header-only or meta-only parse that fails on its own counts as empty, as the Observatory's.
    """
    http_policies = split_policies([header]) if header is not None else []
    meta = split_policies(meta_policies) if meta_policies else []
    try:
        csp = parse_csp(http_policies + meta) if meta else parse_csp(http_policies)
    except (CspInvalid, URIError):
        return _Parsed(None, {}, {}, len(http_policies), len(meta))
    header_only, meta_only = csp, {}
    if meta:
        try:
            header_only = parse_csp(http_policies)
        except (CspInvalid, URIError):
            header_only = {}
        try:
            meta_only = parse_csp_meta(meta)
        except (CspInvalid, URIError):
            meta_only = {}
    return _Parsed(csp, header_only, meta_only, len(http_policies), len(meta))


class _Sources:
    """The source lists each check reads, after the fallbacks to default-src and to ``*``.

    The parse is fresh, so its sets may be edited in place. A missing script-src falls back to
    default-src, and edits made through the fallback land in default-src itself, exactly as the
    Observatory's do: keep the same set objects, never copies.
    """

    __slots__ = (
        "base_uri",
        "default",
        "form_action",
        "frame_ancestors",
        "object",
        "script",
        "style",
    )

    def __init__(self, csp: CspMap, header_only: CspMap) -> None:
        self.default = csp.get("default-src")
        self.frame_ancestors = header_only.get("frame-ancestors") or _STAR
        self.base_uri = csp.get("base-uri") or _STAR
        self.form_action = csp.get("form-action") or _STAR
        self.object = csp.get("object-src") or self.default or {"*"}
        self.script = csp.get("script-src") or self.default or {"*"}
        self.style = csp.get("style-src") or self.default or {"*"}
        # A nonce or hash makes browsers ignore 'unsafe-inline'.
        for sources in (self.script, self.style):
            if "'unsafe-inline'" in sources and _has_nonce_or_hash(sources):
                sources.discard("'unsafe-inline'")


def _strict_dynamic(script_src: set[str], policy: dict[str, bool]) -> str | None:
    """Apply 'strict-dynamic' to script-src; 'csp-header-invalid' if it lacks a nonce or hash."""
    if "'strict-dynamic'" not in script_src:
        return None
    if not _has_nonce_or_hash(script_src):
        return "csp-header-invalid"
    # With 'strict-dynamic', browsers ignore host/scheme sources, 'self' and 'unsafe-inline'.
    for source in list(script_src):
        if source.startswith(_BROAD_PREFIXES) or source in ("'self'", "'unsafe-inline'"):
            script_src.discard(source)
    policy["strictDynamic"] = True
    return None


def _insecure_active(csp: CspMap, script_src: set[str]) -> bool:
    return any(s.startswith(_INSECURE_SCHEMES) for s in script_src) or any(
        s.startswith(_INSECURE_SCHEMES)
        for directive, sources in csp.items()
        if directive not in PASSIVE_DIRECTIVES and directive != "script-src"
        for s in sources
    )


def _insecure_passive(csp: CspMap, default_src: set[str] | None) -> bool:
    for directive in PASSIVE_DIRECTIVES:
        passive = csp.get(directive) or default_src
        if passive and any(s.startswith(_INSECURE_SCHEMES) for s in passive):
            return True
    return False


def _checks(csp: CspMap, s: _Sources, https_page: bool) -> tuple[tuple[str, str, bool], ...]:
    """Every check in the Observatory's order: (policy flag, result when first to hit, hit).

    All run: each hit sets its flag, and the first hit names the result.
    """
    default_none = s.default is not None and len(s.default) == 1 and "'none'" in s.default
    return (
        (
            "unsafeInline",
            "csp-implemented-with-unsafe-inline",
            not BROAD_OR_INLINE.isdisjoint(s.script) or not DANGEROUSLY_BROAD.isdisjoint(s.object),
        ),
        (
            "insecureSchemeActive",
            "csp-implemented-with-insecure-scheme",
            https_page and _insecure_active(csp, s.script),
        ),
        (
            "unsafeEval",
            "csp-implemented-with-unsafe-eval",
            "'unsafe-eval'" in s.script or "'unsafe-eval'" in s.style,
        ),
        (
            "insecureSchemePassive",
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            https_page and _insecure_passive(csp, s.default),
        ),
        (
            "unsafeInlineStyle",
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            not BROAD_OR_INLINE.isdisjoint(s.style),
        ),
        ("defaultNone", "csp-implemented-with-no-unsafe-default-src-none", default_none),
    )


def _grade_policy(csp: CspMap, s: _Sources, https_page: bool) -> tuple[str, dict[str, bool]]:
    """The result and the ``policy`` flags of a CSP that is present and parses."""
    policy: dict[str, bool] = {}
    result = _strict_dynamic(s.script, policy)
    for flag, name, hit in _checks(csp, s, https_page):
        if hit:
            result = result or name
            policy[flag] = True
    result = result or "csp-implemented-with-no-unsafe"
    policy["antiClickjacking"] = DANGEROUSLY_BROAD.isdisjoint(s.frame_ancestors)
    policy["insecureBaseUri"] = not BROAD_OR_INLINE.isdisjoint(s.base_uri)
    policy["insecureFormAction"] = not DANGEROUSLY_BROAD.isdisjoint(s.form_action)
    policy["unsafeObjects"] = not DANGEROUSLY_BROAD.isdisjoint(s.object)
    return result, policy


def analyze(
    header: str | None,
    meta_policies: list[str],
    report_only: str | None,
    https_page: bool,
) -> CspAnalysis:
    """Grade the enforced CSP.

    ``header`` is the folded Content-Security-Policy value (None if absent), ``meta_policies``
    the contents of <meta http-equiv="content-security-policy"> tags, ``report_only`` the
    Report-Only header, ``https_page`` whether the page URL is https (insecure-scheme checks).
    """
    p = _parse(header, meta_policies)
    num_policies = p.http_count + p.meta_count
    csp = p.csp
    if csp is None:
        invalid = Outcome(NAME, "csp-header-invalid", False, {"policies": num_policies})
        return CspAnalysis(invalid, None)
    if not p.header_only and not p.meta_only:
        # Report-Only only counts as a header, never from a meta tag.
        missing = (
            "csp-not-implemented-but-reporting-enabled" if report_only else "csp-not-implemented"
        )
        return CspAnalysis(Outcome(NAME, missing, False, {"policies": num_policies}), None)

    result, policy = _grade_policy(csp, _Sources(csp, p.header_only), https_page)
    passed = result in _PASSING
    if passed and DUPLICATES_KEY in csp:
        result = "csp-implemented-but-duplicate-directives"
    parsed = {k: v for k, v in csp.items() if k != DUPLICATES_KEY} if DUPLICATES_KEY in csp else csp
    data: dict[str, Any] = {
        "policies": num_policies,
        "http": p.http_count > 0,
        "meta": p.meta_count > 0,
        "policy": policy,
        "directives": parsed,  # sets; the report lists them sorted
    }
    return CspAnalysis(Outcome(NAME, result, passed, data), parsed)
