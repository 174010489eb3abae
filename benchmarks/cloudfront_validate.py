"""Per-request cost of the CloudFront model: result validation, header conversion, event building.

Run: .venv/bin/python benchmarks/cloudfront_validate.py
Prints microseconds per call (best of 7 runs of N calls each).
"""

from __future__ import annotations

import copy
import timeit
from collections.abc import Callable
from typing import Any

from edgeshield.cloudfront import (
    cf_record,
    from_cf_headers,
    origin_response_event,
    to_cf_headers,
    validate_result,
)

ORIGIN_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", "9593"),
    ("Date", "Mon, 13 Jan 2020 20:12:38 GMT"),
    ("Server", "nginx"),
    ("ETag", '"5e1c8a2b-2579"'),
    ("Cache-Control", "max-age=600"),
    ("Via", "1.1 abc.cloudfront.net (CloudFront)"),
    ("Transfer-Encoding", "chunked"),
]
SECURITY_HEADERS = [
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("Content-Security-Policy", "default-src 'none'; script-src 'self'; img-src 'self' data:"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]


def _result(event: dict[str, Any], extra: int = 0) -> dict[str, Any]:
    response: dict[str, Any] = copy.deepcopy(cf_record(event)["response"])
    for name, value in SECURITY_HEADERS:
        response["headers"][name.lower()] = [{"key": name, "value": value}]
    for i in range(extra):
        response["headers"][f"x-extra-{i}"] = [{"key": f"X-Extra-{i}", "value": "v" * 40}]
    return response


def _measure(label: str, call: Callable[[], object], number: int = 20_000) -> None:
    best = min(timeit.repeat(call, number=number, repeat=7)) / number
    print(f"{label:<58} {best * 1e6:8.2f} µs")


def main() -> None:
    event = origin_response_event(response_headers=ORIGIN_HEADERS)
    common = _result(event)
    large = _result(event, extra=30)
    assert validate_result("origin-response", event, common) == []
    assert validate_result("origin-response", event, large) == []
    pairs = from_cf_headers(common["headers"])

    _measure(
        "validate_result, 8 origin + 5 added headers",
        lambda: validate_result("origin-response", event, common),
    )
    _measure(
        "validate_result, 8 origin + 35 added headers",
        lambda: validate_result("origin-response", event, large),
    )
    _measure("to_cf_headers, 13 headers", lambda: to_cf_headers(pairs))
    _measure("from_cf_headers, 13 headers", lambda: from_cf_headers(common["headers"]))
    _measure(
        "origin_response_event (build_event)",
        lambda: origin_response_event(response_headers=pairs),
        5_000,
    )


if __name__ == "__main__":
    main()
