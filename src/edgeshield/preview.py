"""Preview what a compiled policy does to sample responses, using the edge engine itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgeshield.cloudfront.events import build_event, from_cf_headers
from edgeshield.cloudfront.rules import TRIGGERS, Trigger

if TYPE_CHECKING:
    from edgeshield.policy.compiled import CompiledPolicy

# A typical origin: an nginx/Express stack that discloses itself, as most do.
_ORIGIN_HEADERS = [
    ("Date", "Wed, 25 Nov 2026 10:00:00 GMT"),
    ("Server", "nginx/1.25.3"),
    ("X-Powered-By", "Express"),
    ("ETag", '"5f2b-1a2b3c"'),
    ("Last-Modified", "Tue, 24 Nov 2026 09:00:00 GMT"),
    ("Cache-Control", "max-age=300"),
    ("Vary", "Accept-Encoding"),
]


@dataclass(frozen=True)
class Sample:
    name: str
    uri: str
    status: int
    content_type: str


DEFAULT_SAMPLES = (
    Sample("HTML 200", "/index.html", 200, "text/html; charset=utf-8"),
    Sample("JSON 200", "/api/data.json", 200, "application/json"),
    Sample("PNG 200", "/images/logo.png", 200, "image/png"),
    Sample("HTML 404", "/missing", 404, "text/html; charset=utf-8"),
)


@dataclass
class SampleResult:
    sample: Sample
    headers: list[tuple[str, str, str]] = field(default_factory=list)  # (key, value, how)
    removed: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample": self.sample.name,
            "uri": self.sample.uri,
            "status": self.sample.status,
            "content_type": self.sample.content_type,
            "rules": self.rules,
            "headers": [{"name": k, "value": v, "source": how} for k, v, how in self.headers],
            "removed": self.removed,
        }


def sample_event(sample: Sample, trigger: Trigger = "origin-response") -> dict[str, Any]:
    headers = [("Content-Type", sample.content_type), *_ORIGIN_HEADERS]
    return build_event(
        trigger,
        uri=sample.uri,
        status=sample.status,
        response_headers=headers,
        request_id="SAMPLE-edgeshield-check-request-id==",
    )


def run_sample(compiled: CompiledPolicy, sample: Sample) -> SampleResult:
    """Apply the compiled policy to one sample with the edge engine and describe the result."""
    from edgeshield.edge.engine import Engine  # the exact code that ships

    # The compiled policy is JSON, so its trigger is a plain string: find the Trigger it names.
    trigger: Trigger = "origin-response"
    trigger = next((t for t in TRIGGERS if t == compiled.get("trigger")), trigger)
    event = sample_event(sample, trigger)
    cf = event["Records"][0]["cf"]
    engine = Engine(compiled)
    result, plan, matched = engine.apply(cf["response"], cf["request"]["uri"])
    before = cf["response"]["headers"]
    after = result["headers"]
    out = SampleResult(sample, rules=[engine.rules[i].name for i in matched])
    set_by_policy = set(plan.names)
    for key, value in from_cf_headers(after):
        lower = key.lower()
        if lower in set_by_policy and before.get(lower) != after.get(lower):
            how = "policy"
        elif lower in set_by_policy:
            how = "origin (kept)"
        else:
            how = "origin"
        out.headers.append((key, value, how))
    out.removed = [before[n][0]["key"] for n in before if n not in after]
    return out
