"""Which CloudFront mechanism can carry a policy exactly, what each costs, and which to use.

Costs are monthly, US list prices, no free tier (facts.PRICING_URL):

- response headers policy: no charge of its own;
- CloudFront Function at viewer-response: every request, $0.10 per million invocations;
- Lambda@Edge at origin-response: only cache misses (its result is cached with the object,
  facts.LAMBDA_EDGE_TRIGGERS_URL), $0.60 per million requests plus duration at
  $0.00005001 per GB-second, billed in 1 ms steps. At viewer-response it runs on every request.

The recommendation is the cheapest mechanism that is exact; ties go to the one with less to
run (policy, then function, then Lambda@Edge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgeshield.targets import cff, facts, rhp

if TYPE_CHECKING:
    from edgeshield.policy.compiled import CompiledPolicy

LAMBDA_EDGE_MEMORY_MB = 128  # what edgeshield's CDK construct gives the function
LAMBDA_EDGE_DURATION_MS = 1.0  # measured ~µs per response; billing rounds up to 1 ms


@dataclass(frozen=True)
class Traffic:
    requests_per_month: int = 10_000_000
    hit_ratio: float = 0.9
    lambda_memory_mb: int = LAMBDA_EDGE_MEMORY_MB
    lambda_duration_ms: float = LAMBDA_EDGE_DURATION_MS

    def __post_init__(self) -> None:
        if self.requests_per_month < 0:
            raise ValueError("requests per month must be 0 or more")
        if not (0.0 <= self.hit_ratio <= 1.0):  # also refuses nan
            raise ValueError("hit ratio must be between 0 and 1")
        if not (128 <= self.lambda_memory_mb <= 10_240):
            raise ValueError("Lambda memory must be 128-10240 MB")
        if not (0 < self.lambda_duration_ms <= 30_000):
            raise ValueError("Lambda duration must be more than 0 and at most 30000 ms")


@dataclass(frozen=True)
class Mechanism:
    name: str
    exact: bool
    reasons: list[str]
    monthly_cost_usd: float
    formula: str
    invocations: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "exact": self.exact,
            "reasons": list(self.reasons),
            "monthly_cost_usd": self.monthly_cost_usd,
        }


@dataclass(frozen=True)
class PlanResult:
    recommended: str
    mechanisms: list[Mechanism]
    traffic: Traffic

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommended": self.recommended,
            "mechanisms": [m.to_dict() for m in self.mechanisms],
        }


def _money(value: float) -> float:
    return round(value, 6)


def _rhp(compiled: CompiledPolicy, traffic: Traffic) -> Mechanism:
    why = rhp.reasons(compiled)
    return Mechanism(
        "response-headers-policy",
        not why,
        why,
        _money(facts.RHP_PRICE),
        "no charge: CloudFront applies the policy itself",
        invocations=0,
    )


def _cff(compiled: CompiledPolicy, traffic: Traffic) -> Mechanism:
    why = cff.reasons(compiled)
    n = traffic.requests_per_month
    cost = n / 1e6 * facts.CFF_PRICE_PER_MILLION
    return Mechanism(
        "cloudfront-function",
        not why,
        why,
        _money(cost),
        f"{n:,} requests (every viewer response) / 1e6 x ${facts.CFF_PRICE_PER_MILLION:.2f}"
        f" = ${cost:,.2f}",
        invocations=n,
    )


def _lambda(compiled: CompiledPolicy, traffic: Traffic) -> Mechanism:
    trigger = compiled.get("trigger", "origin-response")
    n = traffic.requests_per_month
    if trigger == "origin-response":
        runs = round(n * (1.0 - traffic.hit_ratio))
        runs_text = f"{n:,} x (1 - {traffic.hit_ratio:g}) = {runs:,} misses (origin-response)"
    else:
        runs = n
        runs_text = f"{n:,} requests (viewer-response runs on every request)"
    billed_ms = math.ceil(traffic.lambda_duration_ms / facts.LAMBDA_EDGE_BILLING_STEP_MS)
    gb_seconds_each = billed_ms / 1000 * traffic.lambda_memory_mb / 1024
    per_run = facts.LAMBDA_EDGE_PRICE_PER_MILLION / 1e6 + gb_seconds_each * (
        facts.LAMBDA_EDGE_PRICE_PER_GB_SECOND
    )
    cost = runs * per_run
    formula = (
        f"{runs_text} x (${facts.LAMBDA_EDGE_PRICE_PER_MILLION:.2f}/1e6 + "
        f"{billed_ms} ms x {traffic.lambda_memory_mb} MB = {gb_seconds_each:g} GB-s x "
        f"${facts.LAMBDA_EDGE_PRICE_PER_GB_SECOND:.8f}) = ${cost:,.2f}"
    )
    return Mechanism("lambda-edge", True, [], _money(cost), formula, invocations=runs)


_PREFERENCE = {name: i for i, name in enumerate(facts.MECHANISMS)}


def plan(compiled: CompiledPolicy, traffic: Traffic | None = None) -> PlanResult:
    traffic = traffic or Traffic()
    mechanisms = [_rhp(compiled, traffic), _cff(compiled, traffic), _lambda(compiled, traffic)]
    exact = [m for m in mechanisms if m.exact]
    best = min(exact, key=lambda m: (m.monthly_cost_usd, _PREFERENCE[m.name]))
    return PlanResult(best.name, mechanisms, traffic)
