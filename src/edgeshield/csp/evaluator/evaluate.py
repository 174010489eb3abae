"""Run the checks: the same checks, order and split between "as written" and "as enforced"
as ``new CspEvaluator(parsed, version).evaluate([...STRICTCSP_CHECKS,
checkHasConfiguredReporting], DEFAULT_CHECKS)`` in csp_evaluator 1.1.8."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from edgeshield.csp.evaluator import security, strict, syntax, urls
from edgeshield.csp.evaluator.model import EvaluatorFinding, Version
from edgeshield.csp.evaluator.parser import Csp, effective_csp, parse

Check = Callable[[Csp], list[EvaluatorFinding]]

# On the policy a browser of the chosen CSP level enforces (the evaluator's DEFAULT_CHECKS).
DEFAULT_CHECKS: Final[tuple[Check, ...]] = (
    security.check_script_unsafe_inline,
    security.check_script_unsafe_eval,
    security.check_plain_url_schemes,
    security.check_wildcards,
    security.check_missing_directives,
    security.check_script_allowlist_bypass,
    security.check_flash_object_allowlist_bypass,
    security.check_ip_source,
    security.check_nonce_length,
    security.check_src_http,
    security.check_deprecated_directive,
    syntax.check_unknown_directive,
    syntax.check_missing_semicolon,
    syntax.check_invalid_keyword,
)
# On the policy as written (the evaluator's STRICTCSP_CHECKS).
STRICT_CSP_CHECKS: Final[tuple[Check, ...]] = (
    strict.check_strict_dynamic,
    strict.check_strict_dynamic_not_standalone,
    strict.check_unsafe_inline_fallback,
    strict.check_allowlist_fallback,
    strict.check_requires_trusted_types_for_scripts,
)
REPORTING_CHECKS: Final[tuple[Check, ...]] = (security.check_has_configured_reporting,)


def evaluate(
    csp: str,
    version: Version = Version.CSP3,
    *,
    strict_csp: bool = True,
    reporting: bool = True,
) -> list[EvaluatorFinding]:
    """Google's CSP Evaluator findings for one serialized policy (one header line).

    ``version`` is the CSP level of the browser to judge for (CSP3: current browsers).
    ``strict_csp`` adds the 'strict-dynamic'/fallback/Trusted Types advice and ``reporting``
    the missing-report-destination notes. Never raises: a source the URL parser cannot read
    (where the npm package throws) is skipped by the host checks."""
    parsed = parse(csp)
    findings: list[EvaluatorFinding] = []
    effective = effective_csp(parsed, version, findings)
    as_written = (STRICT_CSP_CHECKS if strict_csp else ()) + (REPORTING_CHECKS if reporting else ())
    for check in as_written:
        findings.extend(check(parsed))
    for check in DEFAULT_CHECKS:
        findings.extend(check(effective))
    return findings


def sources_without_host(csp: str, version: Version = Version.CSP3) -> list[tuple[str, str]]:
    """(directive, source) pairs the WHATWG URL parser rejects when read as a host
    (``a:b.com``, ``999.1.1.1``, ``x:99999``). The npm package throws on the first of these
    and reports nothing for the whole policy; :func:`evaluate` skips them instead."""
    effective = effective_csp(parse(csp), version, [])
    return [
        (directive, value)
        for directive, values in effective.directives.items()
        for value in values
        if urls.source_url(value) is None
    ]
