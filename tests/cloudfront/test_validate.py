"""CloudFront's checks on function results: every violation kind, and no false alarms."""

from __future__ import annotations

import base64
import copy
import dataclasses
from typing import Any

import pytest

from edgeshield.cloudfront import (
    Trigger,
    Violation,
    build_event,
    cf_record,
    check_result,
    custom_origin,
    origin_request_event,
    origin_response_event,
    result_kind,
    s3_origin,
    validate_result,
    viewer_request_event,
    viewer_response_event,
)
from edgeshield.cloudfront.validate import (
    PAGE_BODY,
    PAGE_DISALLOWED,
    PAGE_EXECUTION,
    PAGE_NOT_OBJECT,
    PAGE_NOT_PARSABLE,
    PAGE_ORIGIN,
    PAGE_ORIGIN_HEADERS,
    PAGE_READ_ONLY,
)

ORIGIN_HEADERS = [
    ("Content-Type", "text/html"),
    ("Transfer-Encoding", "chunked"),
    ("Via", "1.1 abc.cloudfront.net (CloudFront)"),
    ("Server", "nginx"),
]


def _h(key: str, value: str) -> list[dict[str, str]]:
    return [{"key": key, "value": value}]


@pytest.fixture
def event() -> dict[str, Any]:
    return origin_response_event(response_headers=ORIGIN_HEADERS)


def _response(event: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(cf_record(event)["response"])


def _request(event: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(cf_record(event)["request"])


def _one(violations: list[Violation]) -> Violation:
    assert len(violations) == 1, violations
    return violations[0]


# --- results CloudFront accepts -------------------------------------------------------------


def test_added_security_headers_are_valid(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp["headers"]["strict-transport-security"] = _h(
        "Strict-Transport-Security", "max-age=63072000"
    )
    resp["headers"]["x-frame-options"] = [{"key": "X-FRAME-options", "value": "DENY"}]  # odd case
    resp["headers"]["x-content-type-options"] = [{"value": "nosniff"}]  # key left out
    resp["headers"]["content-security-policy"] = _h("content-security-policy", "default-src 'self'")
    resp["headers"]["x-note"] = _h("X-Note", "tab\tinside, ünïcode ✓")
    del resp["headers"]["server"]
    resp["headers"]["content-type"] = []
    assert validate_result("origin-response", event, resp) == []


def test_origin_response_may_change_status_even_as_an_int(event: dict[str, Any]) -> None:
    # AWS's own Python origin-response example sets an int status, though the event structure
    # page says string: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-examples.html
    resp = _response(event)
    resp["status"] = 200
    assert validate_result("origin-response", event, resp) == []
    resp.update(status="404", statusDescription="Not Found")
    assert validate_result("origin-response", event, resp) == []


def test_origin_response_may_replace_the_body(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp["body"] = "<p>hi</p>"
    assert validate_result("origin-response", event, resp) == []
    resp.update(body=base64.b64encode(b"\x00\x01").decode(), bodyEncoding="base64")
    assert validate_result("origin-response", event, resp) == []


def test_changing_only_the_key_case_of_a_read_only_header_is_fine(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp["headers"]["via"][0]["key"] = "VIA"
    assert validate_result("origin-response", event, resp) == []


def test_headers_already_in_the_event_are_not_added() -> None:
    # SAM samples carry X-Cache and CloudFront-Viewer-Country; handing them back is no addition.
    event = viewer_request_event(headers=[("Host", "h"), ("CloudFront-Viewer-Country", "TW")])
    cf_record(event)["request"]["headers"]["x-cache"] = _h("X-Cache", "Hit")
    assert validate_result("viewer-request", event, _request(event)) == []


# --- not an object, not serialisable ---------------------------------------------------------


@pytest.mark.parametrize("result", [None, [], ["a"], "response", 3, True])
def test_a_json_value_that_is_not_an_object(event: dict[str, Any], result: Any) -> None:
    v = _one(validate_result("origin-response", event, result))
    assert v == Violation(
        "validation",
        "The Lambda function returned invalid JSON: The JSON output must be an object type.",
    )
    assert v.page == PAGE_NOT_OBJECT


@pytest.mark.parametrize(
    "result", [b"bytes", {"status": "200", "headers": {}, "extra": {1, 2}}, object()]
)
def test_a_result_lambda_cannot_serialise_is_an_execution_error(
    event: dict[str, Any], result: Any
) -> None:
    v = _one(validate_result("origin-response", event, result))
    assert v.kind == "execution"
    assert v.message.startswith("Runtime.MarshalError: Unable to marshal response: Object of type")
    assert v.page == PAGE_EXECUTION


def test_a_self_containing_result_is_an_execution_error(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp["loop"] = resp
    v = _one(validate_result("origin-response", event, resp))
    assert (v.kind, v.message) == (
        "execution",
        "Runtime.MarshalError: Unable to marshal response: the result contains itself",
    )


def test_nan_is_not_parsable_json(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp["x"] = float("nan")
    v = _one(validate_result("origin-response", event, resp))
    assert (v.kind, v.message, v.page) == ("validation", PAGE_NOT_PARSABLE, PAGE_NOT_PARSABLE)


# --- disallowed and read-only headers --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [("connection", "Connection"), ("x-amz-cf-pop", "X-Amz-Cf-Pop"), ("x-edge-foo", "x-edge-foo")],
)
def test_adding_a_disallowed_header(event: dict[str, Any], name: str, key: str) -> None:
    resp = _response(event)
    resp["headers"][name] = _h(key, "x")
    v = _one(validate_result("origin-response", event, resp))
    assert v.message == (
        "Lambda function result failed validation, the function tried to add a blacklisted "
        f"header in headers, headerName : {key}."
    )
    assert (v.header, v.page) == (key, PAGE_DISALLOWED)


def test_deleting_transfer_encoding_in_origin_response(event: dict[str, Any]) -> None:
    resp = _response(event)
    del resp["headers"]["transfer-encoding"]
    v = _one(validate_result("origin-response", event, resp))
    # CloudFront's log line for exactly this mistake, as seen in
    # https://github.com/CodeGenieApp/serverless-express/issues/369
    assert v.message == (
        "Lambda function result failed validation, the function tried to delete read-only "
        "header, headerName : Transfer-Encoding."
    )
    assert v.page == (
        "The Lambda function result failed validation: The function tried to add, delete, or "
        "change a read-only header."
    )
    assert v.header == "Transfer-Encoding"


def test_changing_and_adding_read_only_headers() -> None:
    event = origin_response_event(response_headers=[("Via", "1.1 a")])
    resp = _response(event)
    resp["headers"]["via"] = _h("Via", "1.1 b")
    resp["headers"]["transfer-encoding"] = _h("Transfer-Encoding", "chunked")
    messages = sorted(v.message for v in validate_result("origin-response", event, resp))
    assert messages == [
        "Lambda function result failed validation, the function tried to add read-only header, "
        "headerName : Transfer-Encoding.",
        "Lambda function result failed validation, the function tried to change read-only "
        "header, headerName : Via.",
    ]


def test_a_whole_new_headers_dict_drops_read_only_ones(event: dict[str, Any]) -> None:
    # The classic mistake: rebuilding the headers instead of editing them.
    resp = _response(event)
    resp["headers"] = {"x-frame-options": _h("X-Frame-Options", "DENY")}
    found = validate_result("origin-response", event, resp)
    assert {(v.header, v.page) for v in found} == {
        ("Transfer-Encoding", PAGE_READ_ONLY),
        ("Via", PAGE_READ_ONLY),
    }


@pytest.mark.parametrize(
    ("trigger", "header"),
    [
        ("viewer-request", "host"),
        ("viewer-request", "content-length"),
        ("origin-request", "accept-encoding"),
        ("origin-request", "if-none-match"),
        ("viewer-response", "warning"),
        ("viewer-response", "via"),
    ],
)
def test_read_only_headers_per_trigger(trigger: Trigger, header: str) -> None:
    pairs = [(header, "original"), ("x-other", "1")]
    if trigger.endswith("request"):
        event = build_event(trigger, headers=pairs)
        result = _request(event)
    else:
        event = build_event(trigger, response_headers=pairs)
        result = _response(event)
    assert validate_result(trigger, event, result) == []
    result["headers"][header] = _h(header, "changed")
    v = _one(validate_result(trigger, event, result))
    assert "tried to change read-only header" in v.message
    del result["headers"][header]
    assert "tried to delete" in _one(validate_result(trigger, event, result)).message


def test_viewer_request_cannot_add_cloudfront_viewer_country() -> None:
    event = viewer_request_event()
    req = _request(event)
    req["headers"]["cloudfront-viewer-country"] = _h("CloudFront-Viewer-Country", "DE")
    v = _one(validate_result("viewer-request", event, req))
    assert v.header == "CloudFront-Viewer-Country"
    assert "cannot add CloudFront-Viewer-Country" in v.message
    # Other triggers may.
    event = origin_request_event()
    req = _request(event)
    req["headers"]["cloudfront-viewer-country"] = _h("CloudFront-Viewer-Country", "DE")
    assert validate_result("origin-request", event, req) == []


# --- header shape and values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "why"),
    [
        ([{"key": "X-A", "value": 5}], "each entry needs a string value"),
        ([{"key": "X-A"}], "each entry needs a string value"),
        ([{"key": "X-A", "value": None}], "each entry needs a string value"),
        (["plain"], "each entry must be a {key, value} object"),
        ({"key": "X-A", "value": "v"}, "its value must be an array of {key, value} objects"),
        ("v", "its value must be an array of {key, value} objects"),
    ],
)
def test_header_entries_must_be_key_value_strings(
    event: dict[str, Any], entries: Any, why: str
) -> None:
    resp = _response(event)
    resp["headers"]["x-a"] = entries
    v = _one(validate_result("origin-response", event, resp))
    assert v.message == (
        "The Lambda function returned an invalid entry in the headers object, the value of each "
        "header value must be of string or array of string type, header :x-a has one or more "
        f"entries whose value is neither string nor array of strings ({why})."
    )
    assert v.header == "x-a"


def test_headers_must_be_an_object(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp["headers"] = [["X-A", "1"]]
    found = validate_result("origin-response", event, resp)
    assert "the headers field must be an object" in found[0].message


@pytest.mark.parametrize(
    ("char", "code"), [("\r", "%0D"), ("\n", "%0A"), ("\x00", "%00"), ("\x7f", "%7F")]
)
def test_control_characters_in_values(event: dict[str, Any], char: str, code: str) -> None:
    resp = _response(event)
    resp["headers"]["location"] = _h("Location", f"/next{char}Set-Cookie: a=1")
    v = _one(validate_result("origin-response", event, resp))
    assert v.message == (
        "Lambda function result validation failed, the function returned an invalid header, "
        f"invalid character : '{code}' in header value, headerName : Location."
    )
    assert v.header == "Location"


@pytest.mark.parametrize("name", ["bad header", "x-é", "", "x:y"])
def test_header_names_must_be_tokens(event: dict[str, Any], name: str) -> None:
    resp = _response(event)
    resp["headers"][name] = [{"value": "1"}]
    v = _one(validate_result("origin-response", event, resp))
    assert "invalid header name" in v.message and v.header == name


def test_a_key_that_is_not_its_headers_name_is_only_a_warning(event: dict[str, Any]) -> None:
    # AWS documents no such rule, and its own "Overriding a response header" example does this.
    resp = _response(event)
    resp["headers"]["x-a"] = _h("X-B", "1")
    assert validate_result("origin-response", event, resp) == []
    found = check_result("origin-response", event, resp)
    v = _one(found)
    assert (v.kind, v.rule, v.header) == ("warning", "header-key", "x-a")
    assert "the key 'X-B' of an entry in headers['x-a'] is not that header's name" in v.message
    assert "served as X-A" in v.message
    resp["headers"]["x-a"] = [{"key": 3, "value": "1"}]
    assert _one(check_result("origin-response", event, resp)).rule == "header-key"
    resp["headers"]["x-a"] = [{"key": "x-A", "value": "1"}]  # any letter case is the same name
    assert check_result("origin-response", event, resp) == []


def test_awss_overriding_a_response_header_example_is_accepted() -> None:
    event = origin_response_event(
        response_headers=[
            ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"),
            ("X-Amz-Meta-Last-Modified", "Thu, 01 Feb 2024 00:00:00 GMT"),
            ("Transfer-Encoding", "chunked"),
        ]
    )
    resp = _response(event)
    headers = resp["headers"]
    headers["last-modified"] = [headers["x-amz-meta-last-modified"][0]]
    assert validate_result("origin-response", event, resp) == []
    assert [v.rule for v in check_result("origin-response", event, resp)] == ["header-key"]


def test_dict_keys_that_are_not_lower_case_are_only_a_warning(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp["headers"]["X-Frame-Options"] = _h("X-Frame-Options", "DENY")
    assert validate_result("origin-response", event, resp) == []
    v = _one(check_result("origin-response", event, resp))
    assert (v.kind, v.rule) == ("warning", "header-key-case")
    assert "got 'X-Frame-Options'" in v.message
    # The other rules still see the name whatever its case.
    resp["headers"]["X-Cache"] = _h("X-Cache", "Hit")
    assert _one(validate_result("origin-response", event, resp)).rule == "disallowed-header"


@pytest.mark.parametrize(("key", "shown"), [(1, "1"), (None, "null"), (True, "true")])
def test_a_header_name_that_is_not_a_string_is_judged_as_lambda_writes_it(
    event: dict[str, Any], key: Any, shown: str
) -> None:
    resp = _response(event)
    resp["headers"][key] = [{"value": "v"}]
    assert check_result("origin-response", event, resp) == []
    resp["headers"][key] = _h("Other", "v")
    assert _one(check_result("origin-response", event, resp)).header == shown


# --- status ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["abc", "", "２００", True, 200.0, None])
def test_status_must_be_a_code(event: dict[str, Any], status: Any) -> None:
    resp = _response(event)
    resp["status"] = status
    v = _one(validate_result("origin-response", event, resp))
    assert "the status must be an HTTP status code" in v.message


@pytest.mark.parametrize("status", ["199", 600, "100", "99", "0700"])
def test_status_must_be_200_to_599(event: dict[str, Any], status: Any) -> None:
    resp = _response(event)
    resp["status"] = status
    v = _one(validate_result("origin-response", event, resp))
    assert "between 200 and 599" in v.message


def test_viewer_response_cannot_change_the_status() -> None:
    event = viewer_response_event(status=200)
    resp = _response(event)
    resp["status"] = 200  # same code as an int is no change
    assert validate_result("viewer-response", event, resp) == []
    resp["status"] = "302"
    v = _one(validate_result("viewer-response", event, resp))
    assert "cannot change the status code (200 -> 302)" in v.message


def test_status_description_must_be_a_plain_string(event: dict[str, Any]) -> None:
    resp = _response(event)
    for bad in (200, "OK\r\nX: y"):
        resp["statusDescription"] = bad
        assert "statusDescription" in _one(validate_result("origin-response", event, resp)).message


# --- generated responses, bodies and sizes --------------------------------------------------


def _generated(status: Any = "200", **fields: Any) -> dict[str, Any]:
    return {"status": status, "statusDescription": "OK", "headers": {}, **fields}


def test_request_triggers_may_generate_a_response() -> None:
    event = viewer_request_event()
    result = _generated(
        "302",
        headers={"location": _h("Location", "https://example.com/")},
        body="moved",
    )
    assert result_kind("viewer-request", result) == "response"
    assert validate_result("viewer-request", event, result) == []
    # Disallowed headers apply to a generated response.
    result["headers"]["connection"] = _h("Connection", "close")
    assert _one(validate_result("viewer-request", event, result)).page == PAGE_DISALLOWED


@pytest.mark.parametrize(
    ("trigger", "name"),
    [
        ("origin-request", "Content-Length"),
        ("origin-request", "Transfer-Encoding"),
        ("origin-request", "Via"),
        ("viewer-request", "Content-Length"),
        ("viewer-request", "Via"),
    ],
)
def test_a_generated_response_may_not_add_the_triggers_read_only_headers(
    trigger: Trigger, name: str
) -> None:
    """A generated response has nothing to keep, so any of its trigger's read-only headers is an
    addition, and CloudFront refuses it: a Content-Length in an origin-request function's
    response is a 502 ("tried to add, delete, or change a read-only header"; seen with Mangum and
    OpenNext behind CloudFront). Headers read-only at other triggers are fine."""
    event = build_event(trigger)
    result = _generated(headers={"content-type": _h("Content-Type", "text/plain")}, body="hi")
    assert validate_result(trigger, event, result) == []
    result["headers"][name.lower()] = _h(name, "2" if name == "Content-Length" else "1.1 x")
    refusal = _one(validate_result(trigger, event, result))
    assert refusal.rule == "read-only-header"
    assert f"tried to add read-only header, headerName : {name}." in refusal.message
    # Warning is read-only at viewer-response only: a generated response may carry it.
    result["headers"] = {"warning": _h("Warning", '199 - "x"')}
    assert validate_result(trigger, event, result) == []


@pytest.mark.parametrize(
    ("trigger", "limit"),
    [
        ("viewer-request", 40 * 1024),
        ("origin-request", 1024 * 1024),
    ],
)
def test_generated_response_size_limit(trigger: Trigger, limit: int) -> None:
    event = build_event(trigger)
    headers = {"content-type": _h("Content-Type", "text/plain")}  # 12+10+4 = 26 bytes
    ok = _generated(headers=headers, body="x" * (limit - 26))
    assert validate_result(trigger, event, ok) == []
    over = _generated(headers=headers, body="x" * (limit - 25))
    v = _one(validate_result(trigger, event, over))
    assert f"the response is {limit + 1} bytes (headers and body)" in v.message
    assert v.page == PAGE_BODY


@pytest.mark.parametrize(
    ("trigger", "limit"), [("origin-response", 1024 * 1024), ("viewer-response", 40 * 1024)]
)
def test_replaced_body_size_limit_in_response_triggers(trigger: Trigger, limit: int) -> None:
    event = build_event(trigger, response_headers=[])
    resp = _response(event)
    resp["body"] = "é" * (limit // 2)  # two UTF-8 bytes each: exactly the limit
    assert validate_result(trigger, event, resp) == []
    resp["body"] += "a"
    assert "may return at most" in _one(validate_result(trigger, event, resp)).message


def test_base64_bodies_count_their_decoded_size() -> None:
    event = viewer_request_event()
    raw = b"\xff" * (39 * 1024)  # its base64 text is 52 KB, over 40 KB
    result = _generated(body=base64.b64encode(raw).decode(), bodyEncoding="base64")
    assert validate_result("viewer-request", event, result) == []


def test_body_encoding_and_base64(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp.update(body="aGk=", bodyEncoding="gzip")
    assert (
        'bodyEncoding must be "text" or "base64"'
        in _one(validate_result("origin-response", event, resp)).message
    )
    resp.update(body="not base64!", bodyEncoding="base64")
    v = _one(validate_result("origin-response", event, resp))
    assert "not valid base64" in v.message and v.page == PAGE_BODY
    resp.update(body={"data": "x"}, bodyEncoding="text")
    assert (
        "the body must be a string" in _one(validate_result("origin-response", event, resp)).message
    )


def test_204_with_a_body_in_viewer_request() -> None:
    event = viewer_request_event()
    assert validate_result("viewer-request", event, _generated("204")) == []
    v = _one(validate_result("viewer-request", event, _generated("204", body="")))
    assert "204 (No Content)" in v.message
    # The rule is specific to viewer-request.
    assert (
        validate_result("origin-request", origin_request_event(), _generated("204", body="x")) == []
    )


def test_generated_response_status_rules() -> None:
    event = viewer_request_event()
    assert (
        "between 200 and 599"
        in _one(validate_result("viewer-request", event, _generated(100))).message
    )
    assert (
        "HTTP status code"
        in _one(validate_result("viewer-request", event, _generated("x"))).message
    )


# --- request results: uri, querystring, origin, body ----------------------------------------


def test_uri_must_start_with_a_slash() -> None:
    event = viewer_request_event()
    req = _request(event)
    req["uri"] = "index.html"
    assert (
        "the uri must start with '/'" in _one(validate_result("viewer-request", event, req)).message
    )
    req["uri"] = None
    assert (
        "the uri must start with '/'" in _one(validate_result("viewer-request", event, req)).message
    )


def test_uri_and_querystring_must_stay_under_8192() -> None:
    event = viewer_request_event()
    req = _request(event)
    req.update(uri="/" + "a" * 8000, querystring="b" * 190)  # 8001 + 1 + 190 = 8192
    v = _one(validate_result("viewer-request", event, req))
    assert "8192 characters together" in v.message
    req["querystring"] = "b" * 189
    assert validate_result("viewer-request", event, req) == []


@pytest.mark.parametrize("qs", ["a=1 2", "a=1#frag", "a=\x01", 7])
def test_generated_querystring_characters(qs: Any) -> None:
    event = viewer_request_event(querystring="a=1")
    req = _request(event)
    req["querystring"] = qs
    assert "querystring" in _one(validate_result("viewer-request", event, req)).message


def test_unchanged_querystring_is_not_rechecked() -> None:
    event = origin_request_event(querystring="odd value")
    assert validate_result("origin-request", event, _request(event)) == []


def _with_origin(origin: Any) -> list[Violation]:
    event = origin_request_event()
    req = _request(event)
    req["origin"] = origin
    return validate_result("origin-request", event, req)


def test_valid_origin_switches() -> None:
    assert _with_origin(custom_origin("api.example.com", port=8443, path="/v1")) == []
    assert _with_origin(custom_origin("api.example.com", port=80, protocol="http")) == []
    assert _with_origin(s3_origin("bucket.s3.amazonaws.com", path="/static")) == []
    assert (
        _with_origin(
            s3_origin(
                "b.s3.amazonaws.com", auth_method="origin-access-identity", region="us-east-1"
            )
        )
        == []
    )


def _custom(**fields: Any) -> dict[str, Any]:
    origin = custom_origin()
    origin["custom"].update(fields)
    return origin


@pytest.mark.parametrize(
    ("origin", "fragment"),
    [
        ({**custom_origin(), **s3_origin("b.s3.amazonaws.com")}, "exactly one of custom or s3"),
        ({}, "exactly one of custom or s3"),
        ({"http": {}}, "exactly one of custom or s3"),
        ({"custom": "x"}, "origin.custom must be an object"),
        (_custom(domainName="example.com:8080"), "domainName must be a DNS name"),
        (_custom(domainName="192.0.2.1"), "not an IP address"),
        (_custom(domainName=""), "domainName"),
        (_custom(domainName="a" * 254), "at most 253"),
        (_custom(port=81), "port must be 80, 443 or 1024-65535; got 81"),
        (_custom(port=70000), "port must be"),
        (_custom(port="443"), "port must be"),
        (_custom(protocol="ftp"), "protocol must be http or https"),
        (_custom(path="prefix"), "path must be empty or start with '/'"),
        (_custom(path="/prefix/"), "not end with '/'"),
        (_custom(path="/" + "p" * 255), "at most 255 characters"),
        (_custom(readTimeout=3), "readTimeout must be 4-60 seconds; got 3"),
        (_custom(readTimeout=61), "readTimeout must be 4-60"),
        (_custom(keepaliveTimeout=0), "keepaliveTimeout must be 1-60"),
        (_custom(sslProtocols=["TLSv1.3"]), "sslProtocols must list values from"),
        (s3_origin("Bucket.s3.amazonaws.com"), "lower-case bucket DNS name"),
        (s3_origin("b" * 129), "at most 128"),
        (s3_origin("b.s3.amazonaws.com", auth_method="origin-access-control"), "authMethod"),
        (
            s3_origin("b.s3.amazonaws.com", auth_method="origin-access-identity"),
            "region is required",
        ),
        (s3_origin("b.s3.amazonaws.com", path="/x/"), "not end with '/'"),
    ],
)
def test_invalid_origin_configurations(origin: Any, fragment: str) -> None:
    v = _one(_with_origin(origin))
    assert v.message.startswith("The Lambda function returned an invalid origin configuration: ")
    assert fragment in v.message
    assert v.page == PAGE_ORIGIN


def test_origin_custom_headers() -> None:
    bad = custom_origin()
    bad["custom"]["customHeaders"] = {"x-cache": _h("X-Cache", "1")}
    v = _one(_with_origin(bad))
    assert "blacklisted header in customHeaders, headerName : X-Cache" in v.message
    assert v.page == PAGE_ORIGIN_HEADERS
    dup = custom_origin(custom_headers=[("Host", "other")])
    v = _one(_with_origin(dup))
    assert "'host' is also in the request headers" in v.message
    assert v.page == PAGE_ORIGIN_HEADERS


def test_origin_is_ignored_outside_origin_requests() -> None:
    event = viewer_request_event()
    req = _request(event)
    req["origin"] = {"nonsense": True}
    assert validate_result("viewer-request", event, req) == []


def _body_result(trigger: Trigger, **body: Any) -> list[Violation]:
    event = build_event(trigger, method="POST", body=b"a=1", include_body=True)
    req = _request(event)
    req["body"].update(body)
    return validate_result(trigger, event, req)


def test_request_body_replacement() -> None:
    assert _body_result("viewer-request", action="replace", data="bmV3") == []
    assert _body_result("viewer-request", action="replace", encoding="text", data="new") == []
    # read-only: CloudFront ignores whatever the function put in data/encoding.
    assert _body_result("viewer-request", action="read-only", encoding="zip", data="%%%") == []


@pytest.mark.parametrize(
    ("trigger", "encoding", "limit"),
    [
        ("viewer-request", "text", 40 * 1024),
        ("viewer-request", "base64", int(53.2 * 1024)),
        ("origin-request", "text", 1024 * 1024),
        ("origin-request", "base64", int(1.33 * 1024 * 1024)),
    ],
)
def test_request_body_replacement_limits(trigger: Trigger, encoding: str, limit: int) -> None:
    data = "A" * (limit - limit % 4)  # valid base64 and text alike
    assert _body_result(trigger, action="replace", encoding=encoding, data=data) == []
    v = _one(_body_result(trigger, action="replace", encoding=encoding, data=data + "AAAA"))
    assert f"may send at most {limit}" in v.message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"action": "delete"}, 'body.action must be "read-only" or "replace"'),
        ({"action": "replace", "encoding": "hex"}, 'body.encoding must be "base64" or "text"'),
        ({"action": "replace", "data": "***"}, "body.data is not valid base64"),
        ({"action": "replace", "data": 5}, "body.data must be a string"),
    ],
)
def test_request_body_errors(body: dict[str, Any], fragment: str) -> None:
    v = _one(_body_result("origin-request", **body))
    assert fragment in v.message and v.page == PAGE_BODY


def test_request_body_must_be_an_object() -> None:
    event = viewer_request_event()
    req = _request(event)
    req["body"] = "raw"
    assert _one(validate_result("viewer-request", event, req)).message.endswith(
        "the request body must be an object (a generated response needs a status)."
    )
    req["body"] = ["raw"]
    assert _one(validate_result("viewer-request", event, req)).message.endswith(
        "the request body must be an object."
    )
    # A response meant, its status left out: the body's refusal, and the missing headers kept.
    found = check_result("viewer-request", event, {"body": "<p>moved</p>"})
    assert [(v.kind, v.rule) for v in found] == [
        ("warning", "headers-missing"),
        ("validation", "request-body"),
    ]


# --- result_kind and the record type ---------------------------------------------------------


def test_result_kind() -> None:
    assert result_kind("origin-response", {}) == "response"
    assert result_kind("viewer-response", None) == "response"
    assert result_kind("viewer-request", {"uri": "/"}) == "request"
    assert result_kind("origin-request", {"status": "200"}) == "response"
    assert result_kind("origin-request", ["status"]) == "request"


def test_many_problems_are_all_reported(event: dict[str, Any]) -> None:
    resp = _response(event)
    resp["status"] = "700"
    resp["headers"]["connection"] = _h("Connection", "close")
    resp["headers"]["x-a"] = _h("X-A", "a\nb")
    del resp["headers"]["via"]
    assert len(validate_result("origin-response", event, resp)) == 4


def test_violation_is_a_frozen_value() -> None:
    v = Violation("validation", "m", "X-A")
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.message = "other"  # type: ignore[misc]  # the mistake under test
    assert v == Violation("validation", "m", "X-A", page="anything else")
    assert len({v, Violation("validation", "m", "X-A")}) == 1
    assert Violation("execution", "m").header is None


def test_unknown_trigger_is_a_programming_error(event: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown trigger 'edge'"):
        validate_result("edge", event, {})


def test_header_name_with_a_trailing_newline_is_not_a_token() -> None:
    from edgeshield.cloudfront.rules import is_token

    assert is_token("x-frame-options")
    assert not is_token("x-frame-options\n")
    assert not is_token("x-frame-options\r\n")


@pytest.mark.parametrize("trigger", ["origin-response", "viewer-response"])
def test_a_response_without_headers_keeps_its_headers_with_a_warning(trigger: str) -> None:
    """AWS documents nothing about a result that leaves ``headers`` out; the edge keeps the
    headers the function was given (as it keeps a status or body left out), so it must not
    call that deleting the read-only ones, whether or not the origin sent any."""
    for origin_headers in (ORIGIN_HEADERS, [*ORIGIN_HEADERS, ("Transfer-Encoding", "chunked")]):
        event = origin_response_event(response_headers=origin_headers)
        found = check_result(trigger, event, {"status": "200"})
        assert [(v.kind, v.rule) for v in found] == [("warning", "headers-missing")], found
        assert "served with the headers the function was given" in found[0].message
        assert validate_result(trigger, event, {}) == []


def test_a_request_without_headers_keeps_its_headers_with_a_warning() -> None:
    event = viewer_request_event(uri="/a", headers=[("Host", "site.example")])
    found = check_result("viewer-request", event, {"uri": "/b"})
    assert [(v.kind, v.rule) for v in found] == [("warning", "headers-missing")], found
    # What is there is still checked.
    assert _one(validate_result("viewer-request", event, {"uri": "b"})).rule == "uri"


@pytest.mark.parametrize(
    ("trigger", "kind"),
    [("origin-response", "response"), ("viewer-request", "request"), ("origin-request", "request")],
)
def test_the_whole_event_returned_is_served_as_given_with_warnings(trigger: str, kind: str) -> None:
    if kind == "response":
        event = origin_response_event(response_headers=[*ORIGIN_HEADERS, ("Via", "1.1 o")])
    elif trigger == "viewer-request":
        event = viewer_request_event(uri="/a", headers=[("Host", "site.example")])
    else:
        event = origin_request_event(uri="/a", headers=[("Host", "site.example")])
    found = check_result(trigger, event, copy.deepcopy(event))
    assert [v.rule for v in found] == ["whole-event", "headers-missing"], found
    assert all(v.kind == "warning" for v in found)
    assert f"returns event['Records'][0]['cf']['{kind}']" in found[0].message
    assert ", not the event;" in found[0].message


def test_the_whole_event_hint_fits_a_generated_response_at_a_request_trigger() -> None:
    event = viewer_request_event(uri="/a", headers=[("Host", "site.example")])
    result = {**copy.deepcopy(event), "status": "302"}  # a response meant, the event kept
    [v] = [v for v in check_result("viewer-request", event, result) if v.rule == "whole-event"]
    assert (
        "a viewer-request function returns event['Records'][0]['cf']['request'] (or a " in v.message
    )
    assert "'response'" not in v.message
