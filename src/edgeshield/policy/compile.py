"""Compile a validated policy into the small data artifact the edge function loads.

Everything that can be decided at build time is: values are rendered, names lower-cased and
paired with their wire casing, path globs turned into anchored regular expressions. The edge
then does only dict operations and a few regex matches per response.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from edgeshield.policy.csp_pages import compile_pages
from edgeshield.policy.headers import HeaderSetting
from edgeshield.policy.model import Policy, Rule

FORMAT = 1


def glob_to_regex(pattern: str) -> str:
    """A CloudFront path pattern (``*`` any run of characters, ``?`` exactly one,
    case-sensitive) as an anchored regular expression."""
    out = []
    for char in pattern:
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "^" + "".join(out) + "$"


def _headers(settings: tuple[HeaderSetting, ...]) -> list[list[Any]]:
    return [[s.name, s.key, s.value, s.override] for s in settings]


def _rule(rule: Rule) -> dict[str, Any]:
    match = rule.match
    return {
        "name": rule.name,
        "paths": [glob_to_regex(p) for p in match.paths] or None,
        "types": list(match.content_types) or None,
        "statuses": [list(r) for r in match.statuses] or None,
        "set": _headers(rule.set),
        "remove": list(rule.remove),
        "drop": list(rule.drop),
    }


def compile_policy(policy: Policy) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format": FORMAT,
        "trigger": policy.trigger,
        "headers": _headers(policy.headers),
        "remove": list(policy.remove),
        "rules": [_rule(r) for r in policy.rules],
        "log_sample_rate": policy.log_sample_rate,
        "metrics": policy.metrics,
        "metrics_namespace": policy.metrics_namespace,
    }
    if policy.csp_pages is not None:
        csp = next(s for s in policy.headers if s.name == policy.csp_pages.header)
        body["csp_pages"] = compile_pages(policy.csp_pages, csp.name, csp.key, csp.value)
    digest = hashlib.sha256(dumps(body).encode()).hexdigest()[:16]
    return {**body, "digest": digest}


def dumps(compiled: dict[str, Any]) -> str:
    """Canonical JSON: the same policy always gives the same bytes (reproducible bundles)."""
    return json.dumps(compiled, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
