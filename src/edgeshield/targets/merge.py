"""The compiled policy's base (what every response gets), with unconditional rules folded in.

A rule without ``match`` applies to every response, so a mechanism without conditions can
still carry it; the merge follows the edge engine's order (drop, remove, set; later wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgeshield.policy.compiled import CompiledPolicy, CompiledRule


@dataclass(frozen=True)
class Base:
    headers: dict[str, tuple[str, str, bool]]  # name -> (wire key, value, override)
    remove: tuple[str, ...]
    conditional: tuple[CompiledRule, ...]  # compiled rules that depend on the response


def is_conditional(rule: CompiledRule) -> bool:
    return bool(rule.get("paths") or rule.get("types") or rule.get("statuses"))


def merge(compiled: CompiledPolicy, rules: list[CompiledRule]) -> Base:
    adds: dict[str, tuple[str, str, bool]] = {
        n: (k, v, bool(o)) for n, k, v, o in compiled.get("headers", [])
    }
    remove = list(compiled.get("remove", []))
    for rule in rules:
        for name in rule.get("drop", []):
            if name == "*":
                adds.clear()
            else:
                adds.pop(name, None)
        remove.extend(rule.get("remove", []))
        for n, k, v, o in rule.get("set", []):
            adds.pop(n, None)
            adds[n] = (k, v, bool(o))
    return Base(adds, tuple(dict.fromkeys(remove)), ())


def base(compiled: CompiledPolicy) -> Base:
    rules = list(compiled.get("rules", []))
    merged = merge(compiled, [r for r in rules if not is_conditional(r)])
    return Base(merged.headers, merged.remove, tuple(r for r in rules if is_conditional(r)))


def condition_kinds(rule: CompiledRule) -> list[str]:
    """What a rule varies by, in words: 'path', 'content type', 'status'."""
    kinds = []
    if rule.get("paths"):
        kinds.append("path")
    if rule.get("types"):
        kinds.append("content type")
    if rule.get("statuses"):
        kinds.append("status")
    return kinds


def lambda_only_features(compiled: CompiledPolicy) -> list[str]:
    """What the policy asks of the Lambda@Edge function itself, beyond headers."""
    out = []
    if compiled.get("metrics"):
        out.append(
            "metrics = true: the ResponsesHardened/FailedOpen metrics come from the Lambda@Edge function"
        )
    if float(compiled.get("log_sample_rate") or 0) > 0:
        out.append("log-sample-rate > 0: the sampled log lines come from the Lambda@Edge function")
    return out
