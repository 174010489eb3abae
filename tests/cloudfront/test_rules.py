"""The table of result rules: each refusal has an AWS page behind it and a case here that
triggers it; each rule is listed with its source in docs/serve.md."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edgeshield.cloudfront import (
    build_event,
    cf_record,
    check_result,
    custom_origin,
    origin_request_event,
    origin_response_event,
    validate_result,
    viewer_request_event,
    viewer_response_event,
)
from edgeshield.cloudfront.rules import RESULT_RULES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "serve.md"
Case = Callable[[], tuple[str, dict[str, Any], Any]]


def _h(key: str, value: str) -> list[dict[str, str]]:
    return [{"key": key, "value": value}]


def _origin_response(**changes: Any) -> tuple[str, dict[str, Any], Any]:
    event = origin_response_event(response_headers=[("Via", "1.1 a"), ("Content-Type", "x/y")])
    resp = copy.deepcopy(cf_record(event)["response"])
    resp.update(changes)
    return "origin-response", event, resp


def _edit_response_headers(
    edit: Callable[[dict[str, Any]], None],
) -> tuple[str, dict[str, Any], Any]:
    trigger, event, resp = _origin_response()
    edit(resp["headers"])
    return trigger, event, resp


def _request(
    trigger: str, event: dict[str, Any], **changes: Any
) -> tuple[str, dict[str, Any], Any]:
    req = copy.deepcopy(cf_record(event)["request"])
    req.update(changes)
    return trigger, event, req


def _with_body(**body: Any) -> tuple[str, dict[str, Any], Any]:
    event = build_event("origin-request", method="POST", body=b"a=1", include_body=True)
    trigger, event, req = _request("origin-request", event)
    req["body"].update(body)
    return trigger, event, req


# One result per refusing rule that breaks exactly that rule.
CASES: dict[str, Case] = {
    "not-serialisable": lambda: _origin_response(extra={1, 2}),
    "not-json": lambda: _origin_response(extra=float("nan")),
    "not-object": lambda: ("origin-response", origin_response_event(), ["a"]),
    "headers-shape": lambda: _origin_response(headers=[["X-A", "1"]]),
    "header-name": lambda: _edit_response_headers(lambda h: h.update({"x a": [{"value": "1"}]})),
    "header-value": lambda: _edit_response_headers(lambda h: h.update({"x-a": _h("X-A", "a\r\nb")})),
    "disallowed-header": lambda: _edit_response_headers(lambda h: h.update({"x-cache": _h("X-Cache", "1")})),
    "read-only-header": lambda: _edit_response_headers(lambda h: h.pop("via")),
    "viewer-country": lambda: _request(
        "viewer-request", viewer_request_event(headers=[]),
        headers={"cloudfront-viewer-country": _h("CloudFront-Viewer-Country", "DE")},
    ),
    "status": lambda: _origin_response(status="700"),
    "viewer-response-status": lambda: (
        "viewer-response", viewer_response_event(status=200),
        {**cf_record(viewer_response_event(status=200))["response"], "status": "201"},
    ),
    "status-description": lambda: _origin_response(statusDescription="OK\r\nX: y"),
    "body": lambda: _origin_response(body="%%%", bodyEncoding="base64"),
    "body-204": lambda: ("viewer-request", viewer_request_event(), {"status": "204", "body": ""}),
    "response-size": lambda: ("viewer-request", viewer_request_event(), {"status": "200", "body": "x" * 50_000}),
    "uri": lambda: _request("viewer-request", viewer_request_event(), uri="index.html"),
    "querystring": lambda: _request("viewer-request", viewer_request_event(), querystring="a b"),
    "url-length": lambda: _request("viewer-request", viewer_request_event(), uri="/" + "a" * 9000),
    "origin": lambda: _request(
        "origin-request", origin_request_event(), origin=custom_origin("example.com", port=81)
    ),
    "origin-custom-headers": lambda: _request(
        "origin-request", origin_request_event(headers=[("Host", "h")]),
        origin=custom_origin("example.com", custom_headers=[("Host", "other")]),
    ),
    "request-body": lambda: _with_body(action="replace", data="***"),
}  # fmt: skip


def test_every_refusing_rule_has_a_case_and_every_case_a_rule() -> None:
    refusing = {rule.id for rule in RESULT_RULES.values() if rule.refuses}
    assert set(CASES) == refusing


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_refusing_rule_refuses(rule: str) -> None:
    trigger, event, result = CASES[rule]()
    found = check_result(trigger, event, result)
    assert [v.rule for v in found] == [rule], found
    assert found[0].kind in ("validation", "execution")
    assert validate_result(trigger, event, result) == found


def test_refusals_cite_an_aws_page_and_warnings_cite_none() -> None:
    for rule in RESULT_RULES.values():
        if rule.refuses:
            assert rule.source.startswith("https://docs.aws.amazon.com/"), rule
            assert rule.section, rule
        else:
            assert rule.source == "" and rule.section == "", rule


def test_docs_list_every_rule_with_its_source() -> None:
    text = DOCS.read_text()
    rows = {
        match.group(1): match.group(0)
        for match in re.finditer(r"^\| `([a-z0-9-]+)` \|.*$", text, flags=re.MULTILINE)
    }
    assert set(rows) >= set(RESULT_RULES), set(RESULT_RULES) - set(rows)
    for rule in RESULT_RULES.values():
        row = rows[rule.id]
        if rule.refuses:
            assert f"({rule.source})" in row, row
            assert "refused" in row, row
        else:
            assert "warning" in row, row
