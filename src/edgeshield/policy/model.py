"""The validated policy: what every response gets, what is removed, and the rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgeshield.policy.csp_pages import CspPages
from edgeshield.policy.headers import HeaderSetting

ALL = "*"


@dataclass(frozen=True)
class Match:
    """All given conditions must hold; within one condition any entry may match.
    An empty tuple means "no condition"."""

    paths: tuple[str, ...] = ()  # CloudFront path patterns: * any run of characters, ? one
    content_types: tuple[str, ...] = ()  # "text/html", "image/*" (parameters ignored)
    statuses: tuple[tuple[int, int], ...] = ()  # inclusive ranges


@dataclass(frozen=True)
class Rule:
    name: str
    match: Match
    set: tuple[HeaderSetting, ...] = ()
    remove: tuple[str, ...] = ()  # lower-case names removed from the response
    drop: tuple[str, ...] = ()  # policy headers not added; ("*",) = none at all


@dataclass(frozen=True)
class Policy:
    trigger: str = "origin-response"
    headers: tuple[HeaderSetting, ...] = ()
    remove: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    log_sample_rate: float = 0.0
    metrics: bool = False
    metrics_namespace: str = "edgeshield"
    csp_pages: CspPages | None = None  # per-page CSP sources (csp fit's manifest)
    source: str = field(default="<policy>", compare=False)
