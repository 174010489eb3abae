"""Loading events: real CloudFront events, the SAM CLI samples, and clear errors for the rest."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from edgeshield.cloudfront import (
    EventError,
    build_event,
    cf_record,
    event_trigger,
    load_event,
    normalize_event,
    origin_response_event,
    validate_result,
)

SAM_DIR = Path(__file__).resolve().parents[1] / "data" / "sam-events"
SAM_FILES = sorted(SAM_DIR.glob("*.json"))


def test_the_sam_folder_has_all_twelve_samples() -> None:
    assert len(SAM_FILES) == 12


@pytest.mark.parametrize("path", SAM_FILES, ids=lambda p: p.stem)
def test_every_sam_sample_loads_into_a_complete_event(path: Path) -> None:
    event = load_event(path)
    cf = cf_record(event)
    config = cf["config"]
    assert config["eventType"] == event_trigger(event)
    assert config["requestId"].endswith("==")
    assert config["distributionDomainName"] == "d111111abcdef8.cloudfront.net"
    assert config["distributionId"] == "EXAMPLE"  # kept from the sample
    request = cf["request"]
    for field in ("clientIp", "method", "querystring", "uri"):
        assert isinstance(request[field], str), field
    for entries in request["headers"].values():
        assert all(set(e) == {"key", "value"} for e in entries)
    # Handing the event's own request/response back is a valid result, as with a real event
    # (the sample's X-Cache and CloudFront-Viewer-Country were there already, not added).
    result = cf.get("response", request)
    assert validate_result(event_trigger(event), event, result) == []


def test_sam_triggers_are_inferred_from_the_shape() -> None:
    triggers = {p.stem: event_trigger(load_event(p)) for p in SAM_FILES}
    assert triggers["cloudfront-modify-response-header"] == "origin-response"
    assert triggers["cloudfront-access-request-in-response"] == "origin-response"
    assert triggers["cloudfront-ab-test"] == "viewer-request"
    assert sum(t == "viewer-request" for t in triggers.values()) == 10


def test_response_only_sample_gets_a_minimal_request() -> None:
    event = load_event(SAM_DIR / "cloudfront-modify-response-header.json", "viewer-response")
    cf = cf_record(event)
    assert cf["config"]["eventType"] == "viewer-response"
    assert cf["request"] == {
        "clientIp": "203.0.113.178",
        "method": "GET",
        "querystring": "",
        "uri": "/",
        "headers": {},
    }
    assert cf["response"]["status"] == "200"
    # As origin-response it also gets the origin an origin event always carries.
    origin = cf_record(load_event(SAM_DIR / "cloudfront-modify-response-header.json"))
    assert "custom" in origin["request"]["origin"]


def test_sample_values_are_kept() -> None:
    cf = cf_record(load_event(SAM_DIR / "cloudfront-modify-querystring.json", "origin-request"))
    assert cf["request"]["querystring"] == "auth=test&foo=bar"
    assert cf["request"]["clientIp"] == "2001:cdba::3257:9652"
    assert cf["request"]["headers"]["user-name"] == [
        {"key": "User-Name", "value": "aws-cloudfront"}
    ]


def test_a_real_event_passes_through_unchanged() -> None:
    event = origin_response_event(querystring="a=1")
    assert normalize_event(event) == event
    assert load_event(json.dumps(event)) == event


def test_normalize_does_not_touch_its_input() -> None:
    raw = json.loads((SAM_DIR / "cloudfront-ab-test.json").read_text())
    before = copy.deepcopy(raw)
    normalize_event(raw)
    assert raw == before


def test_loose_events_are_completed() -> None:
    raw = {
        "Records": [
            {
                "cf": {
                    "response": {
                        "status": 302,
                        "headers": {
                            "Location": [{"value": "/x"}, {"key": "location", "value": "/y"}]
                        },
                    }
                }
            }
        ]
    }
    cf = cf_record(normalize_event(raw, "viewer-response"))
    assert cf["response"]["status"] == "302"
    assert cf["response"]["headers"] == {
        "location": [{"value": "/x", "key": "Location"}, {"key": "location", "value": "/y"}]
    }
    assert cf["config"]["distributionId"] == "EDFDVBD6EXAMPLE"


def _event_with(**cf: Any) -> dict[str, Any]:
    return {"Records": [{"cf": cf}]}


@pytest.mark.parametrize(
    ("obj", "trigger", "message"),
    [
        ([], None, r"\$: expected an object, got an array"),
        ({}, None, "Records: expected an array with exactly one record"),
        ({"Records": [{}, {}]}, None, "exactly one record"),
        ({"Records": [3]}, None, r"Records\[0\]: expected an object, got a number"),
        ({"Records": [{}]}, None, r"Records\[0\]\.cf: expected an object, got null"),
        (_event_with(config=[]), None, r"Records\[0\]\.cf\.config: expected an object"),
        (
            _event_with(config={"eventType": "edge"}, request={}),
            None,
            r"eventType: 'edge' is not one of viewer-request",
        ),
        (
            _event_with(config={"eventType": "origin-request"}, request={}),
            "viewer-request",
            "the event says origin-request, but viewer-request was asked for",
        ),
        (_event_with(request={}), "bogus", "unknown trigger 'bogus'"),
        (_event_with(config={}), "viewer-request", r"cf\.request: missing"),
        (
            _event_with(request={}, response={}),
            "origin-request",
            "origin-request events have no response",
        ),
        (_event_with(request={}), "origin-response", r"cf\.response: missing"),
        (
            _event_with(request={"uri": 5}),
            None,
            r"Records\[0\]\.cf\.request\.uri: expected a string, got a number",
        ),
        (
            _event_with(request={"headers": {"host": {"key": "Host", "value": "h"}}}),
            None,
            r'request\.headers\["host"\]: expected an array of \{key, value\}',
        ),
        (
            _event_with(request={"headers": {"host": [{"key": "Host", "value": 1}]}}),
            None,
            r'request\.headers\["host"\]\[0\]\.value: expected a string',
        ),
        (
            _event_with(request={"headers": {"host": [{"key": 7, "value": "h"}]}}),
            None,
            r'headers\["host"\]\[0\]\.key: expected a string',
        ),
        (
            _event_with(request={"headers": {"host": ["h"]}}),
            None,
            r'headers\["host"\]\[0\]: expected an object, got a string',
        ),
        (
            _event_with(request={}, response={"status": "OK"}),
            None,
            r"response\.status: expected a 3-digit status",
        ),
        (
            _event_with(request={}, response={"status": True}),
            None,
            r"response\.status: expected a 3-digit status",
        ),
        (
            _event_with(request={}, response={"headers": []}),
            None,
            r"response\.headers: expected an object, got an array",
        ),
    ],
)
def test_bad_events_name_the_json_path(obj: Any, trigger: str | None, message: str) -> None:
    with pytest.raises(EventError, match=message):
        normalize_event(obj, trigger)


def test_event_error_is_a_value_error() -> None:
    assert issubclass(EventError, ValueError)


def test_bad_json_text_reports_line_and_column() -> None:
    with pytest.raises(EventError, match=r"event: not valid JSON: .* \(line 2, column 1\)"):
        load_event('{"Records":\n]')


def test_bad_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(EventError, match=f"cannot read event file {missing}"):
        load_event(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{oops")
    with pytest.raises(EventError, match=f"{broken}: not valid JSON"):
        load_event(str(broken))
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(EventError, match="not UTF-8"):
        load_event(binary)
    shaped = tmp_path / "shape.json"
    shaped.write_text('{"Records": []}')
    with pytest.raises(EventError, match=f"{shaped}: Records: expected"):
        load_event(shaped)


def test_event_trigger() -> None:
    assert event_trigger(build_event("origin-request")) == "origin-request"
    with pytest.raises(EventError, match="eventType: missing"):
        event_trigger({"Records": [{"cf": {"config": {}}}]})
    with pytest.raises(EventError, match="eventType: missing"):
        event_trigger({})
    with pytest.raises(EventError, match="'x' is not one of"):
        event_trigger({"Records": [{"cf": {"config": {"eventType": "x"}}}]})


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(origin_response_event()), encoding="utf-8-sig")
    assert event_trigger(load_event(path)) == "origin-response"
