"""What the CSP Evaluator reports: findings with Google's type numbers and severities.

The numbers are the ones csp_evaluator 1.1.8 uses (``finding.ts``), so a finding here and one
from the npm package can be compared field by field, and users can look a type up there.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple


class Version(IntEnum):
    """The CSP level a browser supports; the checks look at the policy as that browser would."""

    CSP1 = 1
    CSP2 = 2
    CSP3 = 3


class Severity(IntEnum):
    """Lower is worse. HIGH means an attacker who can inject markup can run script."""

    HIGH = 10
    SYNTAX = 20
    MEDIUM = 30
    HIGH_MAYBE = 40
    STRICT_CSP = 45
    MEDIUM_MAYBE = 50
    INFO = 60
    NONE = 100

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class FindingType(IntEnum):
    # parser checks
    MISSING_SEMICOLON = 100
    UNKNOWN_DIRECTIVE = 101
    INVALID_KEYWORD = 102
    NONCE_CHARSET = 106
    # security checks
    MISSING_DIRECTIVES = 300
    SCRIPT_UNSAFE_INLINE = 301
    SCRIPT_UNSAFE_EVAL = 302
    PLAIN_URL_SCHEMES = 303
    PLAIN_WILDCARD = 304
    SCRIPT_ALLOWLIST_BYPASS = 305
    OBJECT_ALLOWLIST_BYPASS = 306
    NONCE_LENGTH = 307
    IP_SOURCE = 308
    DEPRECATED_DIRECTIVE = 309
    SRC_HTTP = 310
    SRC_NO_PROTOCOL = 311
    EXPERIMENTAL = 312
    WILDCARD_URL = 313
    X_FRAME_OPTIONS_OBSOLETED = 314
    STYLE_UNSAFE_INLINE = 315
    STATIC_NONCE = 316
    SCRIPT_UNSAFE_HASHES = 317
    # 'strict-dynamic' and backward-compatibility checks
    STRICT_DYNAMIC = 400
    STRICT_DYNAMIC_NOT_STANDALONE = 401
    NONCE_HASH = 402
    UNSAFE_INLINE_FALLBACK = 403
    ALLOWLIST_FALLBACK = 404
    IGNORED = 405
    # Trusted Types
    REQUIRE_TRUSTED_TYPES_FOR_SCRIPTS = 500
    # reporting (the evaluator's Lighthouse group)
    REPORTING_DESTINATION_MISSING = 600
    REPORT_TO_ONLY = 601

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def title(self) -> str:
        """A few words on what the finding is about, for one-line listings."""
        return _TITLES.get(self, self.label)


_TITLES = {
    FindingType.MISSING_SEMICOLON: "a directive name among the sources (missing ';'?)",
    FindingType.UNKNOWN_DIRECTIVE: "not a CSP directive",
    FindingType.INVALID_KEYWORD: "not a valid keyword (quotes?)",
    FindingType.NONCE_CHARSET: "nonce outside the base64 alphabet",
    FindingType.MISSING_DIRECTIVES: "missing directive",
    FindingType.SCRIPT_UNSAFE_INLINE: "inline scripts and handlers run",
    FindingType.SCRIPT_UNSAFE_EVAL: "eval() and friends allowed",
    FindingType.PLAIN_URL_SCHEMES: "a bare scheme allows any host",
    FindingType.PLAIN_WILDCARD: "'*' allows any host",
    FindingType.SCRIPT_ALLOWLIST_BYPASS: "allowed host may serve JSONP/AngularJS",
    FindingType.OBJECT_ALLOWLIST_BYPASS: "plugins allowed from this source",
    FindingType.NONCE_LENGTH: "nonce too short",
    FindingType.IP_SOURCE: "IP address as a source",
    FindingType.DEPRECATED_DIRECTIVE: "deprecated directive",
    FindingType.SRC_HTTP: "plain http:// source",
    FindingType.SCRIPT_UNSAFE_HASHES: "'unsafe-hashes': hashed handlers run",
    FindingType.STRICT_DYNAMIC: "host allowlist instead of nonces/hashes + 'strict-dynamic'",
    FindingType.STRICT_DYNAMIC_NOT_STANDALONE: "'strict-dynamic' without a nonce or hash",
    FindingType.UNSAFE_INLINE_FALLBACK: "no 'unsafe-inline' fallback for old browsers",
    FindingType.ALLOWLIST_FALLBACK: "no https: fallback for old browsers",
    FindingType.IGNORED: "ignored by the browser",
    FindingType.REQUIRE_TRUSTED_TYPES_FOR_SCRIPTS: "Trusted Types not required",
    FindingType.REPORTING_DESTINATION_MISSING: "no reporting destination",
    FindingType.REPORT_TO_ONLY: "report-to without report-uri",
}


class EvaluatorFinding(NamedTuple):
    """One finding: which directive (and value, when it is about one) and why it matters.
    (A named tuple: immutable, and a policy can produce dozens, so cheap to make.)"""

    type: FindingType
    severity: Severity
    directive: str
    value: str | None
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type.label,
            "type_id": int(self.type),
            "title": self.type.title,
            "severity": self.severity.label,
            "directive": self.directive,
            "value": self.value,
            "description": self.description,
        }
