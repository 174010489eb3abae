"""The same policy gives the same headers on every sample response of `check` through each
target that can express it: the Lambda@Edge engine (the reference), the response headers
policy as the local edge applies it, and the generated CloudFront Function run in real Node.
Where a target cannot express a policy, the plan must say why, and the difference must be
exactly the one it names."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from edgeshield.cloudfront.events import from_cf_headers
from edgeshield.emulator.functions.cff import FunctionSource, Runtime, viewer_event
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.pipeline import response_headers_policy
from edgeshield.policy import CompiledPolicy, compile_policy
from edgeshield.preview import DEFAULT_SAMPLES, Sample, run_sample, sample_event
from edgeshield.targets import cff, rhp
from tests.targets.policies import all_policies

POLICIES = all_policies()
# The samples of `check`, plus one on an API path so path rules are exercised too.
SAMPLES = (*DEFAULT_SAMPLES, Sample("API 200", "/api/items", 200, "application/json"))

HeaderMap = dict[str, list[str]]


def as_map(headers: list[tuple[str, str]]) -> HeaderMap:
    out: HeaderMap = {}
    for name, value in headers:
        out.setdefault(name.lower(), []).append(value)
    return out


def origin_headers(sample: Sample) -> list[tuple[str, str]]:
    event = sample_event(sample)
    return from_cf_headers(event["Records"][0]["cf"]["response"]["headers"])


def engine_headers(compiled: CompiledPolicy, sample: Sample) -> HeaderMap:
    result = run_sample(compiled, sample)
    return as_map([(k, v) for k, v, _how in result.headers])


def run_functions(
    compiled: CompiledPolicy, tmp: Path, samples: tuple[Sample, ...] = SAMPLES
) -> dict[str, HeaderMap]:
    """The generated function, run by the local edge's Node runtime on each sample."""
    code = cff.generate(compiled)
    assert code.fits, code.size

    async def scenario() -> dict[str, HeaderMap]:
        runtime = Runtime(
            [FunctionSource("viewer-response", "equivalence", code.code)],
            LogStore(tmp / "logs"),
            "EDFDVBD6EXAMPLE",
            timeout_ms=1000,
        )
        await runtime.start()
        try:
            out = {}
            for sample in samples:
                event = viewer_event(
                    "viewer-response",
                    method="GET",
                    uri=sample.uri,
                    querystring="",
                    headers=[("Host", "example.com")],
                    client_ip="192.0.2.1",
                    distribution_id="EDFDVBD6EXAMPLE",
                    distribution_domain="d111111abcdef8.cloudfront.net",
                    request_id="req",
                    status=sample.status,
                    status_description="OK",
                    response_headers=origin_headers(sample),
                )
                outcome = await runtime.invoke("viewer-response", event, "req")
                assert outcome.status == 0, outcome.message
                assert outcome.result is not None
                out[sample.name] = as_map(from_cf_headers_cff(outcome.result["headers"]))
            return out
        finally:
            await runtime.close()

    return asyncio.run(scenario())


def from_cf_headers_cff(headers: dict[str, Any]) -> list[tuple[str, str]]:
    from edgeshield.emulator.functions.cff import from_cf_headers as cff_headers

    return cff_headers(headers)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_response_headers_policy_gives_the_engine_headers(name: str) -> None:
    compiled = POLICIES[name]
    reasons = rhp.reasons(compiled)
    policy = response_headers_policy.parse(rhp.cloudformation(compiled))
    differs = []
    for sample in SAMPLES:
        got = as_map(policy.apply(origin_headers(sample)))
        if "server" not in got:  # what CloudFront's edge does to any response without one
            got["server"] = ["CloudFront"]
        want = engine_headers(compiled, sample)
        if "server" not in want:
            want["server"] = ["CloudFront"]
        if got != want:
            differs.append(sample.name)
    if not reasons:
        assert differs == [], f"exact by plan but different on {differs}"
    else:
        assert differs, f"plan says not exact ({reasons}) but every sample matched"


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_cloudfront_function_gives_the_engine_headers_below_400(name: str, tmp_path: Path) -> None:
    compiled = POLICIES[name]
    results = run_functions(compiled, tmp_path)
    for sample in SAMPLES:
        want = engine_headers(compiled, sample)
        if sample.status < 400:
            assert results[sample.name] == want, sample.name
        else:
            # CloudFront does not call a viewer-response function for origin status >= 400:
            # the viewer gets the origin's headers, and the plan names exactly that.
            unchanged = as_map(origin_headers(sample))
            if unchanged != want:
                assert any("400 or more" in r for r in cff.reasons(compiled))


def test_rules_policy_is_not_a_response_headers_policy() -> None:
    reasons = rhp.reasons(POLICIES["rules"])
    assert "rule 'API' varies by status" in reasons
    assert "rule 'errors' varies by status" in reasons
    assert "rule 'CSP only on HTML' varies by content type" in reasons
    assert any(r.startswith("rule 'API' varies by path") for r in reasons)
    assert not any("everywhere" in r for r in reasons)  # unconditional: folded into the policy


def test_flat_policy_folds_unconditional_rules() -> None:
    assert rhp.reasons(POLICIES["flat"]) == []
    config = rhp.config(POLICIES["flat"], "t")
    custom = {c["Header"]: c["Value"] for c in config["CustomHeadersConfig"]["Items"]}
    assert custom == {"Permissions-Policy": "geolocation=()"}
    assert "XSSProtection" not in config["SecurityHeadersConfig"]  # dropped by the rule
    assert config["SecurityHeadersConfig"]["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 31536000,
        "IncludeSubdomains": True,
        "Preload": False,
        "Override": True,
    }


def test_per_page_csp_manifest_goes_into_the_function(tmp_path: Path) -> None:
    from edgeshield.policy import load
    from tests.csp.test_manifest import HASH, per_page_policy

    path = per_page_policy(tmp_path, {"/index.html": {"script-src": [HASH]}})
    policy, _warnings = load(path)
    compiled = compile_policy(policy)
    assert compiled.get("csp_pages")
    reasons = rhp.reasons(compiled)
    assert any(r.startswith("per-page CSP manifest (") for r in reasons)
    assert not any("manifest" in r for r in cff.reasons(compiled))
    results = run_functions(compiled, tmp_path)
    page = engine_headers(compiled, SAMPLES[0])  # HTML 200 /index.html: its own CSP
    assert HASH in page["content-security-policy"][0]
    assert results[SAMPLES[0].name] == page
    for sample in SAMPLES[1:]:
        if sample.status < 400:
            assert results[sample.name] == engine_headers(compiled, sample), sample.name


def test_a_page_is_found_however_the_viewer_encodes_its_path(tmp_path: Path) -> None:
    """S3 serves one object for every encoding of its key's path (it decodes the path), so
    the page's CSP must follow: parentheses sent as is or encoded, lower-case hex, a "%" in
    a file name (%25). The Lambda@Edge engine and the CloudFront Function agree."""
    from edgeshield.policy import load
    from tests.csp.test_manifest import HASH, per_page_policy

    keys = ("/page(1).html", "/caf%C3%A9/index.html", "/100%25.html", "/a+b.html")
    path = per_page_policy(tmp_path, {key: {"script-src": [HASH]} for key in keys})
    compiled = compile_policy(load(path)[0])
    requests = {
        "/page(1).html": True,
        "/page%281%29.html": True,
        "/caf%C3%A9/index.html": True,
        "/caf%c3%a9/index.html": True,
        "/100%25.html": True,
        "/a+b.html": True,
        "/a%2Bb.html": True,
        "/page(2).html": False,
        "/%E0%A4%A.html": False,  # broken escapes: no page (and no error)
    }
    samples = tuple(Sample(uri, uri, 200, "text/html") for uri in requests)
    results = run_functions(compiled, tmp_path, samples)
    for sample in samples:
        page = engine_headers(compiled, sample)
        assert (HASH in page["content-security-policy"][0]) is requests[sample.uri], sample.uri
        assert results[sample.name] == page, sample.uri
