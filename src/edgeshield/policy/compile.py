"""Compile a validated policy into the small data artifact the edge function loads.

Everything that can be decided at build time is: values are rendered, names lower-cased and
paired with their wire casing, path globs turned into anchored regular expressions. The edge
then does only dict operations and a few regex matches per response.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from edgeshield.policy.compiled import CompiledPolicy, CompiledRule, HeaderRow, PolicyBody
from edgeshield.policy.csp_pages import compile_pages
from edgeshield.policy.headers import HeaderSetting
from edgeshield.policy.model import Policy, Rule

FORMAT = 1


# Characters a browser percent-encodes in a URL path (WHATWG URL: the path percent-encode set,
# and everything outside ASCII, as UTF-8): CloudFront hands the function the URI as sent.
_PATH_ENCODED = frozenset(' "<>`{}')


def _encoded(char: str) -> str:
    """``char`` as a browser sends it in a path, hex digits in either case: é -> %C3%A9."""

    def hexdigit(d: str) -> str:
        return f"[{d}{d.lower()}]" if d.isalpha() else d

    return "".join(f"%{hexdigit(f'{b:02X}'[0])}{hexdigit(f'{b:02X}'[1])}" for b in char.encode())


def glob_to_regex(pattern: str) -> str:
    """A CloudFront path pattern (``*`` any run of characters, ``?`` exactly one,
    case-sensitive) as an anchored regular expression. A character browsers percent-encode
    (``/café``, ``/a b``) matches its encoded form as well as itself.

    The viewer chooses the URI, so matching must take linear time in it whatever the pattern:
    ``/*/*/*.js`` written with one ``.*`` per star backtracks through every way of splitting a
    long URI of slashes (minutes at 1,000 characters: a function timeout per request). A star
    between two literal parts only has to reach the first place the next part matches (taking
    the earliest one leaves the most for the rest), so each is an atomic lazy step, written as
    a lookahead and a back-reference to what it captured, because JavaScript's RegExp, which the
    CloudFront Function runs, has no atomic groups. Only the last star may backtrack, once."""
    parts = [_literal(part) for part in pattern.split("*")]
    if len(parts) == 1:
        return "^" + parts[0] + "$"
    middle = [p for p in parts[1:-1] if p]  # "**" is one star
    if len(middle) > 99:  # \100 would be an octal escape to Python; policies allow 99 stars
        raise ValueError(f"path pattern {pattern!r} has more than 99 stars")
    steps = "".join(f"(?=(.*?{part}))\\{n}" for n, part in enumerate(middle, 1))
    return "^" + parts[0] + steps + ".*" + parts[-1] + "$"


def _literal(part: str) -> str:
    """A star-free piece of a path pattern as a regular expression."""
    out = []
    for char in part:
        if char == "?":
            out.append(".")
        elif not char.isascii() or char in _PATH_ENCODED:
            out.append(f"(?:{re.escape(char)}|{_encoded(char)})")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _headers(settings: tuple[HeaderSetting, ...]) -> list[HeaderRow]:
    return [[s.name, s.key, s.value, s.override] for s in settings]


def _rule(rule: Rule) -> CompiledRule:
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


def compile_policy(policy: Policy) -> CompiledPolicy:
    body: PolicyBody = {
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


def dumps(compiled: Mapping[str, Any]) -> str:
    """Canonical JSON: the same policy always gives the same bytes (reproducible bundles)."""
    return json.dumps(compiled, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
