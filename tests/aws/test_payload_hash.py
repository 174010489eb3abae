"""The origin-request hasher on the report behaviour: CloudFront-shaped events in, results
CloudFront would accept out (checked with the project's result validator)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from edgeshield.aws.payload_hash import MAX_BODY_BYTES, handler
from edgeshield.cloudfront.events import build_event
from edgeshield.cloudfront.validate import validate_result

REPORT = json.dumps({"csp-report": {"effective-directive": "img-src"}}).encode()


def event(body: bytes) -> dict[str, Any]:
    return build_event(
        "origin-request",
        method="POST",
        uri="/_edgeshield/csp-report",
        body=body,
        include_body=True,
        headers=[("content-type", "application/csp-report"), ("host", "d111.cloudfront.net")],
    )


@pytest.mark.parametrize("body", [REPORT, b"", b"x" * MAX_BODY_BYTES])
def test_adds_the_body_sha256(body: bytes) -> None:
    incoming = event(body)
    original = copy.deepcopy(incoming)
    result = handler(incoming, None)
    assert result["headers"]["x-amz-content-sha256"] == [
        {"key": "x-amz-content-sha256", "value": hashlib.sha256(body).hexdigest()}
    ]
    assert (
        result["headers"]["content-type"]
        == original["Records"][0]["cf"]["request"]["headers"]["content-type"]
    )
    assert validate_result("origin-request", original, result) == []


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 2 * 1024 * 1024])
def test_oversized_bodies_answered_413_at_the_edge(size: int) -> None:
    incoming = event(b"y" * size)  # over 1 MB CloudFront truncates and says so
    result = handler(incoming, None)
    assert result["status"] == "413"
    assert validate_result("origin-request", event(b"y"), result) == []


def test_invalid_base64_is_400() -> None:
    incoming = event(REPORT)
    incoming["Records"][0]["cf"]["request"]["body"]["data"] = "%%%"
    assert handler(incoming, None)["status"] == "400"
