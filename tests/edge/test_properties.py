"""Property: for any CloudFront-shaped origin-response event, the function's result is one
CloudFront accepts, with read-only headers and the status untouched."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings

from edgeshield.cloudfront import validate_result
from edgeshield.cloudfront.rules import READ_ONLY_HEADERS
from edgeshield.edge.engine import Engine
from edgeshield.edge.handler import handler
from edgeshield.policy import compile_policy, load_preset
from tests.strategies import origin_response_events

ENGINES = {
    name: Engine(compile_policy(load_preset(name)))
    for name in ("strict", "recommended", "cloudfront-managed", "helmet")
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(origin_response_events())
def test_default_handler_result_is_always_valid(event: dict[str, Any]) -> None:
    before = copy.deepcopy(event)
    result = handler(event, None)
    assert event == before, "the event must not be mutated"
    response = event["Records"][0]["cf"]["response"]
    assert validate_result("origin-response", event, result) == []
    assert result["status"] == response["status"]
    for name in READ_ONLY_HEADERS["origin-response"]:
        assert result["headers"].get(name) == response["headers"].get(name)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(origin_response_events())
def test_every_preset_gives_valid_results(event: dict[str, Any]) -> None:
    cf = event["Records"][0]["cf"]
    for engine in ENGINES.values():
        result, _plan, _matched = engine.apply(cf["response"], cf["request"].get("uri", "/"))
        assert validate_result("origin-response", event, result) == []
        assert result["status"] == cf["response"]["status"]
