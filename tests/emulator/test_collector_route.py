"""The CSP-report collector behind the local edge: a regular Lambda at /_edgeshield/csp-report."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgeshield.emulator.functions.lambdalog import VERSION
from edgeshield.emulator.logstore import read_events
from tests.servers import Edge

REPORT = json.dumps(
    {
        "csp-report": {
            "document-uri": "https://shop.example/cart?session=abc",
            "effective-directive": "script-src-elem",
            "blocked-uri": "inline",
            "disposition": "enforce",
            "status-code": 200,
        }
    }
).encode()
GROUP = "/aws/lambda/edgeshield-csp-collector"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    server = Edge(tmp_path_factory.mktemp("collector"), None, None)
    yield server
    server.close()


def post(
    url: str, body: bytes, content_type: str = "application/csp-report", method: str = "POST"
) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        url,
        data=body if method == "POST" else None,
        method=method,
        headers={"Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def collector_lines(edge: Edge, needle: str, timeout_s: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [
            e.message
            for e in read_events(edge.workdir / ".edgeshield" / "logs", groups=[GROUP])
            if needle in e.message
        ]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_report_is_accepted_logged_and_shown(edge: Edge) -> None:
    status, headers = post(edge.url + "/_edgeshield/csp-report", REPORT)
    assert status == 204
    assert headers.get("cache-control") == "no-store"
    # Another cache behavior of the same distribution: CloudFront's headers, never cached.
    assert headers.get("X-Cache") == "Miss from cloudfront"
    assert headers.get("Server") == "CloudFront"
    assert headers.get("Via", "").endswith(".cloudfront.net (CloudFront)")
    assert headers.get("X-Amz-Cf-Pop") and headers.get("X-Amz-Cf-Id", "").endswith("==")
    (line,) = collector_lines(edge, '"csp-violation"')
    record = json.loads(line)
    assert record["effective_directive"] == "script-src-elem"
    assert record["document_uri"] == "https://shop.example/cart"  # query strings never logged
    assert record["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "Violations", "Unit": "Count"}
    ]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any("CSP violation" in x for x in edge.output):
        time.sleep(0.1)
    assert any(
        x.startswith("CSP violation (enforce): script-src-elem blocked inline") for x in edge.output
    )


def test_collector_runs_as_a_regular_lambda(edge: Edge) -> None:
    post(edge.url + "/_edgeshield/csp-report", REPORT)
    starts = collector_lines(edge, "START RequestId:")
    assert starts and starts[0].endswith(f"Version: {VERSION}")
    groups = {e.group for e in read_events(edge.workdir / ".edgeshield" / "logs")}
    assert GROUP in groups  # its own group, without the "us-east-1." replica prefix
    assert "/aws/lambda/us-east-1.edgeshield-csp-collector" not in groups


@pytest.mark.parametrize(
    ("body", "content_type", "method", "status"),
    [
        (b"not json", "application/csp-report", "POST", 400),
        (b"{}", "text/plain", "POST", 400),
        (b"x" * (65 * 1024), "application/csp-report", "POST", 413),
        (b"x" * (2 * 1024 * 1024), "application/csp-report", "POST", 413),
        (b"", "application/csp-report", "GET", 405),
    ],
)
def test_bad_reports_get_4xx(
    edge: Edge, body: bytes, content_type: str, method: str, status: int
) -> None:
    assert post(edge.url + "/_edgeshield/csp-report", body, content_type, method)[0] == status


def test_reports_api_format(edge: Edge) -> None:
    body = json.dumps(
        [
            {
                "type": "csp-violation",
                "url": "https://a.example/",
                "body": {
                    "documentURL": "https://a.example/",
                    "effectiveDirective": "img-src",
                    "blockedURL": "https://evil.example/x.png",
                    "disposition": "report",
                    "statusCode": 200,
                },
            }
        ]
    ).encode()
    assert post(edge.url + "/_edgeshield/csp-report", body, "application/reports+json")[0] == 204
    assert collector_lines(edge, '"img-src"')


def test_no_collector(tmp_path: Path) -> None:
    edge = Edge(tmp_path, None, None, ("--no-collector",))
    try:
        status, headers = post(edge.url + "/_edgeshield/csp-report", REPORT)
        assert status != 204
        assert "from cloudfront" in headers.get("X-Cache", "")  # it went through the edge
        assert not any(line.strip().startswith("collector ") for line in edge.output)
    finally:
        edge.close()
