"""Property tests: header conversion round trips and the validator on random events."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edgeshield.cloudfront import (
    cf_record,
    from_cf_headers,
    normalize_event,
    to_cf_headers,
    validate_result,
)
from edgeshield.cloudfront.rules import is_disallowed
from tests.strategies import header_lists, header_names, header_values, origin_response_events


def _grouped(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The order CloudFront's dict form gives back: names in first-seen order (ignoring case),
    each name's lines in their original order."""
    order: dict[str, list[tuple[str, str]]] = {}
    for name, value in pairs:
        order.setdefault(name.lower(), []).append((name, value))
    return [pair for group in order.values() for pair in group]


@given(header_lists(allow_disallowed=True))
def test_dict_form_round_trips_to_grouped_lines(pairs: list[tuple[str, str]]) -> None:
    cf = to_cf_headers(pairs, drop_disallowed=False)
    assert from_cf_headers(cf) == _grouped(pairs)
    assert all(name == name.lower() for name in cf)
    assert sum(len(entries) for entries in cf.values()) == len(pairs)


@given(header_lists(allow_disallowed=True))
def test_lines_round_trip_to_the_same_dict(pairs: list[tuple[str, str]]) -> None:
    cf = to_cf_headers(pairs, drop_disallowed=False)
    assert to_cf_headers(from_cf_headers(cf), drop_disallowed=False) == cf


@given(header_lists(allow_disallowed=True))
def test_dropping_disallowed_removes_exactly_those(pairs: list[tuple[str, str]]) -> None:
    kept = from_cf_headers(to_cf_headers(pairs))
    assert kept == _grouped([p for p in pairs if not is_disallowed(p[0])])


@given(header_lists())
def test_headers_survive_json(pairs: list[tuple[str, str]]) -> None:
    cf = to_cf_headers(pairs)
    assert from_cf_headers(json.loads(json.dumps(cf))) == _grouped(pairs)


@settings(max_examples=150)
@given(origin_response_events())
def test_the_unchanged_response_is_always_valid(event: dict[str, Any]) -> None:
    response = copy.deepcopy(cf_record(event)["response"])
    assert validate_result("origin-response", event, response) == []


@settings(max_examples=150)
@given(origin_response_events(), st.lists(st.tuples(header_names(), header_values()), max_size=6))
def test_setting_headers_the_right_way_is_always_valid(
    event: dict[str, Any], added: list[tuple[str, str]]
) -> None:
    # Copy the dict, then replace entries, skipping the read-only ones: what the edge function does.
    response = copy.deepcopy(cf_record(event)["response"])
    for name, value in added:
        if name.lower() not in ("via", "transfer-encoding"):
            response["headers"][name.lower()] = [{"key": name, "value": value}]
    assert validate_result("origin-response", event, response) == []


@settings(max_examples=100)
@given(origin_response_events())
def test_dropping_via_or_transfer_encoding_is_always_caught(event: dict[str, Any]) -> None:
    headers = cf_record(event)["response"]["headers"]
    response = copy.deepcopy(cf_record(event)["response"])
    response["headers"] = {
        n: e for n, e in headers.items() if n not in ("via", "transfer-encoding")
    }
    found = validate_result("origin-response", event, response)
    expected = {n for n in ("via", "transfer-encoding") if headers.get(n)}
    assert {v.header.lower() for v in found if v.header} == expected
    assert all("tried to delete read-only header" in v.message for v in found)


@settings(max_examples=100)
@given(origin_response_events())
def test_random_events_normalize_and_stay_json(event: dict[str, Any]) -> None:
    normal = normalize_event(event)
    cf = cf_record(normal)
    assert cf["request"]["querystring"] == cf_record(event)["request"].get("querystring", "")
    assert "origin" in cf["request"]
    assert normalize_event(json.loads(json.dumps(normal))) == normal
