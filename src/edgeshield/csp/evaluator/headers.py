"""The evaluator applied to a policy: every CSP the policy can send, enforced or report-only,
from the base headers and from each rule."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from edgeshield.csp.evaluator.evaluate import evaluate
from edgeshield.csp.evaluator.model import EvaluatorFinding, Severity, Version
from edgeshield.policy.model import Policy

CSP_HEADERS = ("content-security-policy", "content-security-policy-report-only")


@dataclass(frozen=True)
class HeaderFindings:
    """The findings for one policy in one CSP header the policy sets."""

    where: str  # "headers" or "rule <name>"
    header: str  # lower-case header name
    csp: str
    findings: tuple[EvaluatorFinding, ...]

    @property
    def report_only(self) -> bool:
        return self.header == "content-security-policy-report-only"

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "header": self.header,
            "report_only": self.report_only,
            "csp": self.csp,
            "findings": [f.to_dict() for f in self.findings],
        }


def _settings(policy: Policy | dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(where, lower-case header name, value) for every header the policy sets."""
    if isinstance(policy, Policy):
        for s in policy.headers:
            yield "headers", s.name, s.value
        for rule in policy.rules:
            for s in rule.set:
                yield f"rule {rule.name}", s.name, s.value
        return
    # The compiled artifact: headers are [name, key, value, override].
    for name, _key, value, _override in policy.get("headers", []):
        yield "headers", name, value
    for rule in policy.get("rules", []):
        for name, _key, value, _override in rule.get("set", []):
            yield f"rule {rule['name']}", name, value


def policy_findings(
    policy: Policy | dict[str, Any], version: Version = Version.CSP3
) -> list[HeaderFindings]:
    """Evaluator findings for each CSP in a validated :class:`Policy` (or its compiled form).

    A header value that holds several policies (comma-separated, as browsers read it) gives
    one entry per policy."""
    out = []
    for where, name, value in _settings(policy):
        if name not in CSP_HEADERS:
            continue
        for part in value.split(","):
            if part.strip():
                out.append(
                    HeaderFindings(where, name, part.strip(), tuple(evaluate(part, version)))
                )
    return out


def high_severity(findings: Iterable[EvaluatorFinding]) -> list[EvaluatorFinding]:
    """The findings that mean injected markup can run script (severity HIGH)."""
    return [f for f in findings if f.severity == Severity.HIGH]
