"""Google's CSP Evaluator (npm ``csp_evaluator`` 1.1.8, Apache-2.0), ported finding for finding.

``evaluate(csp)`` returns the findings the npm package reports for a policy (same type
numbers, severities, directives and values; descriptions in our words); a differential test
holds the two together. The JSONP/AngularJS/Flash bypass lists are the package's data, shipped
in ``data/`` with its licence notice.
"""

from __future__ import annotations

from edgeshield.csp.evaluator.evaluate import evaluate, sources_without_host
from edgeshield.csp.evaluator.headers import HeaderFindings, high_severity, policy_findings
from edgeshield.csp.evaluator.model import EvaluatorFinding, FindingType, Severity, Version

__all__ = [
    "EvaluatorFinding",
    "FindingType",
    "HeaderFindings",
    "Severity",
    "Version",
    "evaluate",
    "high_severity",
    "policy_findings",
    "sources_without_host",
]
