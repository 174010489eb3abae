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
    http_policies = split_policies([header]) if header is not None else []
    meta = split_policies(meta_policies) if meta_policies else []
    num_policies = len(http_policies) + len(meta)
    try:
        csp = parse_csp(http_policies + meta) if meta else parse_csp(http_policies)
    except (CspInvalid, URIError):
        return CspAnalysis(
            Outcome(NAME, "csp-header-invalid", False, {"policies": num_policies}), None
        )
    if meta:
        try:
            header_only = parse_csp(http_policies)
        except (CspInvalid, URIError):
            header_only = {}
        try:
            meta_only = parse_csp_meta(meta)
        except (CspInvalid, URIError):
            meta_only = {}
    else:
        header_only = csp
        meta_only = {}

    if not header_only and not meta_only:
        # Report-Only only counts as a header, never from a meta tag.
        missing = (
            "csp-not-implemented-but-reporting-enabled" if report_only else "csp-not-implemented"
        )
        return CspAnalysis(Outcome(NAME, missing, False, {"policies": num_policies}), None)

    # The parse is fresh, so its sets may be edited in place. A missing script-src falls back
    # to default-src, and edits made through the fallback land in default-src itself, exactly
    # as the Observatory's do.
    default_src = csp.get("default-src")
    frame_ancestors = header_only.get("frame-ancestors") or _STAR
    base_uri = csp.get("base-uri") or _STAR
    form_action = csp.get("form-action") or _STAR
    object_src = csp.get("object-src") or default_src or {"*"}
    script_src = csp.get("script-src") or default_src or {"*"}
    style_src = csp.get("style-src") or default_src or {"*"}

    # A nonce or hash makes browsers ignore 'unsafe-inline'.
    for sources in (script_src, style_src):
        if "'unsafe-inline'" in sources and _has_nonce_or_hash(sources):
            sources.discard("'unsafe-inline'")

    result: str | None = None
    policy: dict[str, bool] = {}
    has_strict_dynamic = "'strict-dynamic'" in script_src
    if has_strict_dynamic and _has_nonce_or_hash(script_src):
        # With 'strict-dynamic', browsers ignore host/scheme sources, 'self' and 'unsafe-inline'.
        for source in list(script_src):
            if (
                source.startswith(_BROAD_PREFIXES)
                or source == "'self'"
                or source == "'unsafe-inline'"
            ):
                script_src.discard(source)
        policy["strictDynamic"] = True
    elif has_strict_dynamic:
        result = "csp-header-invalid"

    if not BROAD_OR_INLINE.isdisjoint(script_src) or not DANGEROUSLY_BROAD.isdisjoint(object_src):
        result = result or "csp-implemented-with-unsafe-inline"
        policy["unsafeInline"] = True

    if https_page:
        active_insecure = any(s.startswith(_INSECURE_SCHEMES) for s in script_src) or any(
            s.startswith(_INSECURE_SCHEMES)
            for directive, sources in csp.items()
            if directive not in PASSIVE_DIRECTIVES and directive != "script-src"
            for s in sources
        )
        if active_insecure:
            result = result or "csp-implemented-with-insecure-scheme"
            policy["insecureSchemeActive"] = True

    if "'unsafe-eval'" in script_src or "'unsafe-eval'" in style_src:
        result = result or "csp-implemented-with-unsafe-eval"
        policy["unsafeEval"] = True

    if https_page:
        passive_insecure = False
        for directive in PASSIVE_DIRECTIVES:
            passive = csp.get(directive) or default_src
            if passive and any(s.startswith(_INSECURE_SCHEMES) for s in passive):
                passive_insecure = True
        if passive_insecure:
            result = result or "csp-implemented-with-insecure-scheme-in-passive-content-only"
            policy["insecureSchemePassive"] = True

    if not BROAD_OR_INLINE.isdisjoint(style_src):
        result = result or "csp-implemented-with-unsafe-inline-in-style-src-only"
        policy["unsafeInlineStyle"] = True

    if default_src is not None and len(default_src) == 1 and "'none'" in default_src:
        result = result or "csp-implemented-with-no-unsafe-default-src-none"
        policy["defaultNone"] = True
    else:
        result = result or "csp-implemented-with-no-unsafe"

    policy["antiClickjacking"] = DANGEROUSLY_BROAD.isdisjoint(frame_ancestors)
    policy["insecureBaseUri"] = not BROAD_OR_INLINE.isdisjoint(base_uri)
    policy["insecureFormAction"] = not DANGEROUSLY_BROAD.isdisjoint(form_action)
    policy["unsafeObjects"] = not DANGEROUSLY_BROAD.isdisjoint(object_src)

    passed = result in _PASSING
    if passed and DUPLICATES_KEY in csp:
        result = "csp-implemented-but-duplicate-directives"

    data: dict[str, Any] = {
        "policies": num_policies,
        "http": bool(http_policies),
        "meta": bool(meta),
        "policy": policy,
    }
    parsed = {k: v for k, v in csp.items() if k != DUPLICATES_KEY} if DUPLICATES_KEY in csp else csp
    data["directives"] = parsed  # sets; the report lists them sorted
    return CspAnalysis(Outcome(NAME, result, passed, data), parsed)
