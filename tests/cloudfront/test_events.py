"""The event builders against the shapes in AWS's Lambda@Edge event-structure examples."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from edgeshield.cloudfront import (
    TRIGGERS,
    Trigger,
    build_event,
    cf_record,
    custom_origin,
    from_cf_headers,
    header_pairs,
    new_request_id,
    origin_request_event,
    origin_response_event,
    s3_origin,
    to_cf_headers,
    validate_result,
    viewer_request_event,
    viewer_response_event,
)

REQUEST_ID = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="


def _h(key: str, value: str) -> list[dict[str, str]]:
    return [{"key": key, "value": value}]


# The origin-response example event from the CloudFront developer guide ("Lambda@Edge event
# structure", Example Origin Response), field for field.
AWS_ORIGIN_RESPONSE: dict[str, Any] = {
    "Records": [
        {
            "cf": {
                "config": {
                    "distributionDomainName": "d111111abcdef8.cloudfront.net",
                    "distributionId": "EDFDVBD6EXAMPLE",
                    "eventType": "origin-response",
                    "requestId": REQUEST_ID,
                },
                "request": {
                    "clientIp": "203.0.113.178",
                    "headers": {
                        "x-forwarded-for": _h("X-Forwarded-For", "203.0.113.178"),
                        "user-agent": _h("User-Agent", "Amazon CloudFront"),
                        "via": _h(
                            "Via",
                            "2.0 8f22423015641505b8c857a37450d6c0.cloudfront.net (CloudFront)",
                        ),
                        "host": _h("Host", "example.org"),
                        "cache-control": _h("Cache-Control", "no-cache, cf-no-cache"),
                    },
                    "method": "GET",
                    "origin": {
                        "custom": {
                            "customHeaders": {},
                            "domainName": "example.org",
                            "keepaliveTimeout": 5,
                            "path": "",
                            "port": 443,
                            "protocol": "https",
                            "readTimeout": 30,
                            "sslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"],
                        }
                    },
                    "querystring": "",
                    "uri": "/",
                },
                "response": {
                    "headers": {
                        "access-control-allow-credentials": _h(
                            "Access-Control-Allow-Credentials", "true"
                        ),
                        "access-control-allow-origin": _h("Access-Control-Allow-Origin", "*"),
                        "date": _h("Date", "Mon, 13 Jan 2020 20:12:38 GMT"),
                        "referrer-policy": _h("Referrer-Policy", "no-referrer-when-downgrade"),
                        "server": _h("Server", "ExampleCustomOriginServer"),
                        "x-content-type-options": _h("X-Content-Type-Options", "nosniff"),
                        "x-frame-options": _h("X-Frame-Options", "DENY"),
                        "x-xss-protection": _h("X-XSS-Protection", "1; mode=block"),
                        "content-type": _h("Content-Type", "text/html; charset=utf-8"),
                        "content-length": _h("Content-Length", "9593"),
                    },
                    "status": "200",
                    "statusDescription": "OK",
                },
            }
        }
    ]
}


def test_origin_response_matches_the_aws_example_exactly() -> None:
    aws_response = AWS_ORIGIN_RESPONSE["Records"][0]["cf"]["response"]
    built = origin_response_event(
        request_id=REQUEST_ID, response_headers=from_cf_headers(aws_response["headers"])
    )
    assert built == AWS_ORIGIN_RESPONSE
    # Same JSON key order too, so dumps of both are identical.
    assert json.dumps(built) == json.dumps(AWS_ORIGIN_RESPONSE)


def test_viewer_request_matches_the_aws_example() -> None:
    built = viewer_request_event(request_id=REQUEST_ID)
    assert built == {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": "d111111abcdef8.cloudfront.net",
                        "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "viewer-request",
                        "requestId": REQUEST_ID,
                    },
                    "request": {
                        "clientIp": "203.0.113.178",
                        "headers": {
                            "host": _h("Host", "d111111abcdef8.cloudfront.net"),
                            "user-agent": _h("User-Agent", "curl/7.66.0"),
                            "accept": _h("accept", "*/*"),
                        },
                        "method": "GET",
                        "querystring": "",
                        "uri": "/",
                    },
                }
            }
        ]
    }


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_each_trigger_has_exactly_the_documented_parts(trigger: Trigger) -> None:
    cf = cf_record(build_event(trigger))
    assert set(cf["config"]) == {
        "distributionDomainName",
        "distributionId",
        "eventType",
        "requestId",
    }
    assert cf["config"]["eventType"] == trigger
    has_response = trigger.endswith("response")
    assert ("response" in cf) is has_response
    is_origin = trigger.startswith("origin")
    assert ("origin" in cf["request"]) is is_origin
    assert cf["request"]["querystring"] == ""
    if has_response:
        assert cf["response"]["status"] == "200"
        assert cf["response"]["statusDescription"] == "OK"


def test_wrappers_pass_the_trigger() -> None:
    for builder, trigger in (
        (viewer_request_event, "viewer-request"),
        (origin_request_event, "origin-request"),
        (origin_response_event, "origin-response"),
        (viewer_response_event, "viewer-response"),
    ):
        assert cf_record(builder(uri="/x"))["config"]["eventType"] == trigger


def test_status_is_a_string_and_description_defaults_to_the_phrase() -> None:
    resp = cf_record(origin_response_event(status=404))["response"]
    assert resp["status"] == "404"
    assert resp["statusDescription"] == "Not Found"
    resp = cf_record(origin_response_event(status="299"))["response"]
    assert (resp["status"], resp["statusDescription"]) == ("299", "")
    resp = cf_record(origin_response_event(status=200, status_description="Fine"))["response"]
    assert resp["statusDescription"] == "Fine"


def test_origin_request_headers_use_the_origin_host() -> None:
    event = origin_request_event(origin=s3_origin("my-bucket.s3.amazonaws.com"))
    request = cf_record(event)["request"]
    assert request["headers"]["host"] == _h("Host", "my-bucket.s3.amazonaws.com")
    assert request["origin"] == {
        "s3": {
            "authMethod": "none",
            "customHeaders": {},
            "domainName": "my-bucket.s3.amazonaws.com",
            "path": "",
        }
    }


def test_s3_origin_with_oai_and_custom_headers() -> None:
    origin = s3_origin(
        "b.s3.amazonaws.com",
        path="/p",
        auth_method="origin-access-identity",
        region="eu-west-1",
        custom_headers={"X-Secret": "1"},
    )
    assert origin["s3"]["region"] == "eu-west-1"
    assert origin["s3"]["customHeaders"] == {"x-secret": _h("X-Secret", "1")}


def test_custom_origin_defaults_are_the_aws_example() -> None:
    assert custom_origin() == AWS_ORIGIN_RESPONSE["Records"][0]["cf"]["request"]["origin"]


def test_headers_keep_casing_order_and_repeats() -> None:
    event = viewer_request_event(
        headers=[("Host", "a"), ("X-Test", "1"), ("ACCEPT", "x"), ("x-test", "2")]
    )
    headers = cf_record(event)["request"]["headers"]
    assert list(headers) == ["host", "x-test", "accept"]
    assert headers["x-test"] == [{"key": "X-Test", "value": "1"}, {"key": "x-test", "value": "2"}]
    assert headers["accept"] == _h("ACCEPT", "x")


def test_headers_given_as_a_mapping_with_lists() -> None:
    event = origin_response_event(response_headers={"Set-Cookie": ["a=1", "b=2"], "Server": "s"})
    headers = cf_record(event)["response"]["headers"]
    assert headers == {
        "set-cookie": [
            {"key": "Set-Cookie", "value": "a=1"},
            {"key": "Set-Cookie", "value": "b=2"},
        ],
        "server": _h("Server", "s"),
    }
    assert header_pairs({"A": ["1", "2"], "B": "3"}) == [("A", "1"), ("A", "2"), ("B", "3")]


def test_disallowed_headers_never_reach_an_event() -> None:
    hidden = [
        ("Connection", "keep-alive"),
        ("X-Cache", "Miss from cloudfront"),
        ("X-Amz-Cf-Id", "abc=="),
        ("X-Edge-Location", "x"),
        ("Keep-Alive", "timeout=5"),
        ("X-Forwarded-Proto", "https"),
    ]
    event = origin_response_event(
        headers=[("Host", "h"), *hidden], response_headers=[("Server", "s"), *hidden]
    )
    cf = cf_record(event)
    assert list(cf["request"]["headers"]) == ["host"]
    assert list(cf["response"]["headers"]) == ["server"]
    # The converter on its own can keep them when asked to.
    assert len(to_cf_headers(hidden, drop_disallowed=False)) == len(hidden)


def test_from_cf_headers_fills_a_missing_key_like_cloudfront() -> None:
    assert from_cf_headers(
        {"content-type": [{"value": "text/html"}], "x-a": [{"key": "", "value": "1"}]}
    ) == [("Content-Type", "text/html"), ("X-A", "1")]


def test_request_id_looks_like_cloudfronts() -> None:
    ids = {new_request_id() for _ in range(50)}
    assert len(ids) == 50
    # Ids seen in real CloudFront error pages (the AWS doc's example has a stray extra
    # character) are 56 URL-safe base64 characters ending in "==".
    real = "w1f6g52TQqKf0ipOC-3Gc2HelnR72vgScG9mCJ_ticxPbpYHco7Qmw=="
    for rid in ids:
        assert len(rid) == len(real)
        assert re.fullmatch(r"[A-Za-z0-9_-]{54}==", rid)
    first = cf_record(origin_response_event())["config"]["requestId"]
    assert (
        first.endswith("==") and first != cf_record(origin_response_event())["config"]["requestId"]
    )


@pytest.mark.parametrize(
    ("trigger", "limit"), [("viewer-request", 40 * 1024), ("origin-request", 1024 * 1024)]
)
def test_include_body_is_base64_and_truncated_at_the_trigger_limit(
    trigger: Trigger, limit: int
) -> None:
    small = cf_record(build_event(trigger, method="POST", body=b"a=1", include_body=True))
    assert small["request"]["body"] == {
        "inputTruncated": False,
        "action": "read-only",
        "encoding": "base64",
        "data": base64.b64encode(b"a=1").decode(),
    }
    big = bytes(range(256)) * (limit // 256 + 1)
    body = cf_record(build_event(trigger, body=big, include_body=True))["request"]["body"]
    assert body["inputTruncated"] is True
    assert base64.b64decode(body["data"]) == big[:limit]
    exact = cf_record(build_event(trigger, body=big[:limit], include_body=True))["request"]["body"]
    assert exact["inputTruncated"] is False


def test_body_is_exposed_only_with_include_body() -> None:
    assert "body" not in cf_record(viewer_request_event(body=b"x"))["request"]
    empty = cf_record(viewer_request_event(include_body=True))["request"]["body"]
    assert (empty["data"], empty["inputTruncated"]) == ("", False)


def test_builder_refuses_impossible_events() -> None:
    with pytest.raises(ValueError, match="unknown trigger"):
        build_event("edge-request")  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(ValueError, match="no origin"):
        viewer_request_event(origin=custom_origin())
    with pytest.raises(ValueError, match="Include Body"):
        origin_response_event(include_body=True)


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_an_unchanged_event_part_is_a_valid_result(trigger: Trigger) -> None:
    event = build_event(trigger, querystring="a=1", include_body=trigger.endswith("request"))
    cf = cf_record(event)
    result = cf["response"] if trigger.endswith("response") else cf["request"]
    assert validate_result(trigger, event, json.loads(json.dumps(result))) == []
