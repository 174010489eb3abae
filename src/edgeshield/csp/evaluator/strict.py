"""Strict-CSP checks (types 4xx, 500): 'strict-dynamic' with nonces or hashes, fallbacks for
older browsers, Trusted Types. Run on the policy as written, not on what one browser enforces
(the fallbacks are exactly the sources a modern browser ignores)."""

from __future__ import annotations

from edgeshield.csp.evaluator.model import EvaluatorFinding, FindingType, Severity
from edgeshield.csp.evaluator.parser import (
    STRICT_DYNAMIC,
    TRUSTED_TYPES_SINK_SCRIPT,
    UNSAFE_INLINE,
    Csp,
)

T = FindingType
S = Severity


def _script_src(csp: Csp) -> tuple[str, list[str]]:
    directive = csp.effective_directive("script-src")
    return directive, csp.values(directive)


def check_strict_dynamic(csp: Csp) -> list[EvaluatorFinding]:
    directive, values = _script_src(csp)
    if any(not v.startswith("'") for v in values) and STRICT_DYNAMIC not in values:
        return [
            EvaluatorFinding(
                T.STRICT_DYNAMIC,
                S.STRICT_CSP,
                directive,
                None,
                "Host allowlists are often bypassable; nonces or hashes with "
                "'strict-dynamic' hold up better.",
            )
        ]
    return []


def check_strict_dynamic_not_standalone(csp: Csp) -> list[EvaluatorFinding]:
    directive, values = _script_src(csp)
    if STRICT_DYNAMIC in values and not csp.has_script_nonces() and not csp.has_script_hashes():
        return [
            EvaluatorFinding(
                T.STRICT_DYNAMIC_NOT_STANDALONE,
                S.INFO,
                directive,
                None,
                "'strict-dynamic' with no nonce or hash to start from blocks every script.",
            )
        ]
    return []


def check_unsafe_inline_fallback(csp: Csp) -> list[EvaluatorFinding]:
    if not csp.has_script_nonces() and not csp.has_script_hashes():
        return []
    directive, values = _script_src(csp)
    if UNSAFE_INLINE in values:
        return []
    return [
        EvaluatorFinding(
            T.UNSAFE_INLINE_FALLBACK,
            S.STRICT_CSP,
            directive,
            None,
            "Browsers without nonce/hash support block inline scripts here; 'unsafe-inline' "
            "beside the nonces or hashes keeps them working and is ignored by newer ones.",
        )
    ]


def check_allowlist_fallback(csp: Csp) -> list[EvaluatorFinding]:
    directive, values = _script_src(csp)
    if STRICT_DYNAMIC not in values:
        return []
    if any(v in ("http:", "https:", "*") or "." in v for v in values):
        return []
    return [
        EvaluatorFinding(
            T.ALLOWLIST_FALLBACK,
            S.STRICT_CSP,
            directive,
            None,
            "Browsers without 'strict-dynamic' need an allowlist to load scripts; https: "
            "(ignored where 'strict-dynamic' works) keeps them working.",
        )
    ]


def check_requires_trusted_types_for_scripts(csp: Csp) -> list[EvaluatorFinding]:
    directive = csp.effective_directive("require-trusted-types-for")
    if TRUSTED_TYPES_SINK_SCRIPT in csp.values(directive):
        return []
    return [
        EvaluatorFinding(
            T.REQUIRE_TRUSTED_TYPES_FOR_SCRIPTS,
            S.INFO,
            "require-trusted-types-for",
            None,
            "require-trusted-types-for 'script' would make DOM sinks such as innerHTML "
            "accept only Trusted Types, closing off DOM XSS.",
        )
    ]
