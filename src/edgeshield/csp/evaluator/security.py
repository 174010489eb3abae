"""The evaluator's security checks (types 3xx), run on the policy a browser enforces.

Each check takes a :class:`Csp` and returns findings in the order the evaluator emits them.
"""

from __future__ import annotations

from typing import Final

from edgeshield.csp.evaluator import urls
from edgeshield.csp.evaluator.model import EvaluatorFinding, FindingType, Severity
from edgeshield.csp.evaluator.parser import (
    NONE,
    SCRIPT_DIRECTIVES,
    SELF,
    UNSAFE_EVAL,
    UNSAFE_HASHES,
    UNSAFE_INLINE,
    Csp,
    is_nonce,
    is_url_scheme,
    js_length,
    nonce_value,
)

T = FindingType
S = Severity

# Directives where a weak source lets injected markup run script.
DIRECTIVES_CAUSING_XSS: Final = ("script-src", "script-src-attr", "script-src-elem",
                                 "object-src", "base-uri")  # fmt: skip
URL_SCHEMES_CAUSING_XSS: Final = ("data:", "http:", "https:")


# The inline-script keywords, worst first: (keyword, finding type, severity, why).
_INLINE_KEYWORDS: Final = (
    (UNSAFE_INLINE, T.SCRIPT_UNSAFE_INLINE, S.HIGH,
     "'unsafe-inline' lets any inline <script> and event-handler attribute run, which is what "
     "an XSS injection looks like."),
    (UNSAFE_HASHES, T.SCRIPT_UNSAFE_HASHES, S.MEDIUM_MAYBE,
     "'unsafe-hashes' lets event handlers and javascript: URLs whose hash is listed run. "
     "Narrower than 'unsafe-inline', but better moved into script files."),
)  # fmt: skip


def check_script_unsafe_inline(csp: Csp) -> list[EvaluatorFinding]:
    return [
        EvaluatorFinding(kind, severity, directive, keyword, text)
        for directive in csp.effective_directives(SCRIPT_DIRECTIVES)
        for keyword, kind, severity, text in _INLINE_KEYWORDS
        if keyword in csp.values(directive)
    ]


def check_script_unsafe_eval(csp: Csp) -> list[EvaluatorFinding]:
    return [
        EvaluatorFinding(
            T.SCRIPT_UNSAFE_EVAL,
            S.MEDIUM_MAYBE,
            directive,
            UNSAFE_EVAL,
            "'unsafe-eval' lets strings become code (eval(), new Function(), string "
            "timers), so text an attacker gets into those calls runs.",
        )
        for directive in csp.effective_directives(SCRIPT_DIRECTIVES)
        if UNSAFE_EVAL in csp.values(directive)
    ]


def check_plain_url_schemes(csp: Csp) -> list[EvaluatorFinding]:
    return [
        EvaluatorFinding(
            T.PLAIN_URL_SCHEMES,
            S.HIGH,
            directive,
            value,
            f"{value} in {directive} allows script from any host reachable with that scheme "
            "(or written into a data: URL), so it restricts nothing.",
        )
        for directive in csp.effective_directives(DIRECTIVES_CAUSING_XSS)
        for value in csp.values(directive)
        if value in URL_SCHEMES_CAUSING_XSS
    ]


def check_wildcards(csp: Csp) -> list[EvaluatorFinding]:
    return [
        EvaluatorFinding(
            T.PLAIN_WILDCARD,
            S.HIGH,
            directive,
            value,
            f"{directive} allows '*', any host at all.",
        )
        for directive in csp.effective_directives(DIRECTIVES_CAUSING_XSS)
        for value in csp.values(directive)
        if urls.scheme_free(value) == "*"
    ]


def _missing(directive: str, text: str) -> list[EvaluatorFinding]:
    return [EvaluatorFinding(T.MISSING_DIRECTIVES, S.HIGH, directive, None, text)]


def check_missing_object_src(csp: Csp) -> list[EvaluatorFinding]:
    d = csp.directives
    restrictions = d.get("object-src") if "object-src" in d else d.get("default-src", [])
    if restrictions:
        return []
    return _missing(
        "object-src",
        "Without object-src (or a default-src) plugins can be embedded, and some run script; "
        "set object-src 'none'.",
    )


def check_missing_script_src(csp: Csp) -> list[EvaluatorFinding]:
    if "script-src" in csp.directives or "default-src" in csp.directives:
        return []
    return _missing(
        "script-src", "There is neither script-src nor default-src: scripts are not restricted."
    )


def check_missing_base_uri(csp: Csp) -> list[EvaluatorFinding]:
    needs = csp.has_script_nonces() or (csp.has_script_hashes() and csp.has_strict_dynamic())
    if not needs or "base-uri" in csp.directives:
        return []
    return _missing(
        "base-uri",
        "Without base-uri an injected <base> tag points every relative script URL at another "
        "host, around the nonces or 'strict-dynamic'; set base-uri 'none' or 'self'.",
    )


def check_missing_directives(csp: Csp) -> list[EvaluatorFinding]:
    return [*check_missing_object_src(csp), *check_missing_script_src(csp),
            *check_missing_base_uri(csp)]  # fmt: skip


def check_script_allowlist_bypass(csp: Csp) -> list[EvaluatorFinding]:
    out = []
    for directive in csp.effective_directives(("script-src", "script-src-elem")):
        values = csp.values(directive)
        if NONE in values:
            continue
        for value in values:
            verdict = _script_source_verdict(value, UNSAFE_EVAL in values)
            if verdict is not None:
                severity, text = verdict
                out.append(
                    EvaluatorFinding(T.SCRIPT_ALLOWLIST_BYPASS, severity, directive, value, text)
                )
    return out


def _script_source_verdict(value: str, allows_eval: bool) -> tuple[Severity, str] | None:
    """How far one script source can be turned against the page; None for keywords, schemes
    and what is not a host."""
    if value == SELF:
        return S.MEDIUM_MAYBE, (
            "'self' is only as safe as the site: JSONP endpoints, AngularJS or files users can "
            "upload on this origin let an attacker run script."
        )
    if value.startswith("'") or is_url_scheme(value) or "." not in value:
        return None
    if urls.source_url(value) is None:
        return None  # the npm package throws here
    jsonp, angular = urls.script_bypass(value)
    if jsonp and jsonp.hostname in urls.JSONP_NEEDS_EVAL and not allows_eval:
        jsonp = None
    hit = angular or jsonp  # the evaluator names the AngularJS host when both match
    if hit is None:
        return S.MEDIUM_MAYBE, (
            "No known bypass on this host; check it serves no JSONP and no AngularJS, or any "
            "of its scripts can be turned against the page."
        )
    what = " and ".join(
        kind for kind, found in (("JSONP endpoints", jsonp), ("AngularJS", angular)) if found
    )
    return S.HIGH, (
        f"{hit.hostname} serves {what} that an attacker can load to run their own script "
        "under this policy."
    )


def check_flash_object_allowlist_bypass(csp: Csp) -> list[EvaluatorFinding]:
    directive = csp.effective_directive("object-src")
    plugin_types = csp.directives.get("plugin-types")
    if plugin_types is not None and "application/x-shockwave-flash" not in plugin_types:
        return []
    out = []
    for value in csp.values(directive):
        if value == NONE:
            return []
        if urls.source_url(value) is None:
            continue  # the npm package throws here
        flash = urls.flash_bypass(value)
        if flash:
            severity, text = (
                S.HIGH,
                (
                    f"{flash.hostname} hosts Flash files that an attacker can embed to run script "
                    "under this policy."
                ),
            )
        elif directive == "object-src":
            severity, text = (
                S.MEDIUM_MAYBE,
                "Plugins are rarely needed; can object-src be just 'none'?",
            )
        else:
            continue
        out.append(EvaluatorFinding(T.OBJECT_ALLOWLIST_BYPASS, severity, directive, value, text))
    return out


def check_ip_source(csp: Csp) -> list[EvaluatorFinding]:
    out = []
    for directive, values in csp.directives.items():
        for value in values:
            host = urls.hostname(value)
            if host is None or not urls.looks_like_ip(host):
                continue
            if host == "127.0.0.1":
                text = f"{directive} allows localhost; fine while developing, not in production."
            else:
                text = (
                    f"{directive} names an IP address ({host}); browsers do not match IP "
                    "sources the way the author probably expects."
                )
            out.append(EvaluatorFinding(T.IP_SOURCE, S.INFO, directive, value, text))
    return out


_DEPRECATED: Final = (
    ("reflected-xss", "reflected-xss was dropped after CSP1; the XSS auditor it drove is gone."),
    ("referrer", "The referrer directive was dropped; use the Referrer-Policy header."),
    ("disown-opener", "disown-opener was dropped; use Cross-Origin-Opener-Policy."),
    ("prefetch-src", "prefetch-src is deprecated and browsers may stop honouring it."),
)


def check_deprecated_directive(csp: Csp) -> list[EvaluatorFinding]:
    return [
        EvaluatorFinding(T.DEPRECATED_DIRECTIVE, S.INFO, name, None, text)
        for name, text in _DEPRECATED
        if name in csp.directives
    ]


def check_nonce_length(csp: Csp) -> list[EvaluatorFinding]:
    out = []
    for directive, values in csp.directives.items():
        for value in values:
            nonce = nonce_value(value)
            if nonce is None:
                continue
            if js_length(nonce) < 8:
                text = "A nonce shorter than 8 characters can be guessed."
                out.append(EvaluatorFinding(T.NONCE_LENGTH, S.MEDIUM, directive, value, text))
            if not is_nonce(value, strict=True):
                text = "A nonce should be base64 (A-Z a-z 0-9 + / or - _, then up to two =)."
                out.append(EvaluatorFinding(T.NONCE_CHARSET, S.INFO, directive, value, text))
    return out


def check_src_http(csp: Csp) -> list[EvaluatorFinding]:
    out = []
    for directive, values in csp.directives.items():
        for value in values:
            if value.startswith("http://"):
                text = (
                    "Reports sent over plain HTTP can be read and altered on the way; use https."
                    if directive == "report-uri"
                    else "Content loaded over plain HTTP can be swapped on the network; "
                    "allow https only."
                )
                out.append(EvaluatorFinding(T.SRC_HTTP, S.MEDIUM, directive, value, text))
    return out


def check_has_configured_reporting(csp: Csp) -> list[EvaluatorFinding]:
    if csp.values("report-uri"):
        return []
    if csp.values("report-to"):
        return [
            EvaluatorFinding(
                T.REPORT_TO_ONLY,
                S.INFO,
                "report-to",
                None,
                "Only report-to names a destination; browsers without the Reporting API "
                "send nothing, so add a report-uri as well.",
            )
        ]
    return [
        EvaluatorFinding(
            T.REPORTING_DESTINATION_MISSING,
            S.INFO,
            "report-uri",
            None,
            "No reporting destination: violations go unseen, so breakage and attacks stay "
            "invisible.",
        )
    ]
