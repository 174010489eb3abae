"""The collector handler: status codes, log lines, the shared secret, the S3 copy."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from edgeshield.aws.collector import Collector, s3_store, violation_record
from edgeshield.aws.csp_reports import MAX_BODY_BYTES
from edgeshield.aws.kms_env import Secret
from edgeshield.report_route import SECRET_HEADER

from .conftest import boto

REPORT = {
    "csp-report": {
        "document-uri": "https://example.com/?token=abc",
        "effective-directive": "script-src",
        "blocked-uri": "https://evil.example/x.js?id=1",
        "disposition": "enforce",
    }
}


def url_event(
    body: str | bytes | None,
    content_type: str = "application/csp-report",
    method: str = "POST",
    headers: dict[str, str] | None = None,
    b64: bool = False,
) -> dict[str, Any]:
    """The event a Lambda function URL delivers (payload format 2.0)."""
    if isinstance(body, bytes):
        body = base64.b64encode(body).decode() if b64 else body.decode()
    return {
        "version": "2.0",
        "rawPath": "/_edgeshield/csp-report",
        "rawQueryString": "",
        "headers": {
            "content-type": content_type,
            "user-agent": "Mozilla/5.0 test",
            "cookie": "session=SHOULD-NOT-APPEAR",
            **(headers or {}),
        },
        "requestContext": {"http": {"method": method, "path": "/_edgeshield/csp-report"}},
        "body": body,
        "isBase64Encoded": b64,
    }


class Capture:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


def test_valid_report_is_204_and_one_emf_log_line() -> None:
    log = Capture()
    result = Collector(Secret("off"), emit=log).handle(url_event(json.dumps(REPORT)))
    assert result["statusCode"] == 204
    [record] = log.records()
    assert record["event"] == "csp-violation"
    assert record["Directive"] == "script-src" and record["Violations"] == 1
    metrics = record["_aws"]["CloudWatchMetrics"][0]
    assert metrics["Dimensions"] == [["Directive"]]
    assert metrics["Metrics"][0]["Name"] == "Violations"
    assert record["document_uri"] == "https://example.com/"
    assert record["blocked_uri"] == "https://evil.example/x.js"
    assert record["user_agent"] == "Mozilla/5.0 test"
    assert "SHOULD-NOT-APPEAR" not in log.lines[0] and "token" not in log.lines[0]


def test_base64_body_is_decoded() -> None:
    log = Capture()
    event = url_event(json.dumps(REPORT).encode(), b64=True)
    assert Collector(Secret("off"), emit=log).handle(event)["statusCode"] == 204
    assert len(log.lines) == 1


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (url_event("x" * (MAX_BODY_BYTES + 1)), 413),
        (url_event(b"x" * (MAX_BODY_BYTES + 1), b64=True), 413),
        (url_event("{}", headers={"content-length": str(MAX_BODY_BYTES + 10)}), 413),
        (url_event("{broken"), 400),
        (url_event(json.dumps(REPORT), content_type="text/html"), 400),
        (url_event("%%%not-base64", b64=True), 400),
        (url_event(None), 400),
        (url_event(json.dumps(REPORT), method="GET"), 405),
        ("not an event", 400),
    ],
)
def test_bad_requests_get_4xx_never_an_exception(event: Any, status: int) -> None:
    log = Capture()
    assert Collector(Secret("off"), emit=log).handle(event)["statusCode"] == status
    assert not any('"csp-violation"' in line for line in log.lines)


def test_secret_header_is_required_when_configured() -> None:
    log = Capture()
    collector = Collector(Secret("ready", value="s3cr3t-value"), emit=log)
    body = json.dumps(REPORT)
    assert collector.handle(url_event(body))["statusCode"] == 403
    assert collector.handle(url_event(body, headers={SECRET_HEADER: "wrong"}))["statusCode"] == 403
    ok = collector.handle(url_event(body, headers={"X-EdgeShield-Secret": "s3cr3t-value"}))
    assert ok["statusCode"] == 204
    assert not any("s3cr3t-value" in line for line in log.lines)


def test_previous_secret_accepted_during_rotation() -> None:
    collector = Collector(Secret("ready", value="new-one", previous="old-one"), emit=Capture())
    body = json.dumps(REPORT)
    for given, status in (("new-one", 204), ("old-one", 204), ("older", 403), ("", 403)):
        assert (
            collector.handle(url_event(body, headers={SECRET_HEADER: given}))["statusCode"]
            == status
        )


def test_failed_secret_refuses_everything() -> None:
    log = Capture()
    collector = Collector(Secret("failed", reason="KMS Decrypt failed"), emit=log)
    result = collector.handle(url_event(json.dumps(REPORT), headers={SECRET_HEADER: "x"}))
    assert result["statusCode"] == 503
    assert json.loads(log.lines[0])["event"] == "refused"


def test_violation_record_is_valid_emf() -> None:
    from edgeshield.aws.csp_reports import parse_reports

    [violation] = parse_reports(json.dumps(REPORT).encode(), "application/csp-report")
    record = violation_record(violation, 1_700_000_000_000)
    directive = record["_aws"]["CloudWatchMetrics"][0]
    # EMF: every dimension and metric named in the metadata is a top-level member.
    for dims in directive["Dimensions"]:
        assert all(name in record for name in dims)
    assert all(m["Name"] in record for m in directive["Metrics"])
    assert record["_aws"]["Timestamp"] == 1_700_000_000_000


def test_reports_are_copied_to_s3(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    s3 = boto("s3", moto_url)
    s3.create_bucket(Bucket="reports-test")
    collector = Collector(Secret("off"), emit=Capture(), store=s3_store("reports-test", "csp/"))
    assert collector.handle(url_event(json.dumps(REPORT)))["statusCode"] == 204
    listed = s3.list_objects_v2(Bucket="reports-test", Prefix="csp/")["Contents"]
    assert len(listed) == 1
    stored = json.loads(s3.get_object(Bucket="reports-test", Key=listed[0]["Key"])["Body"].read())
    assert stored[0]["effective_directive"] == "script-src"


def test_storage_failure_still_answers_204_and_logs(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    log = Capture()
    collector = Collector(Secret("off"), emit=log, store=s3_store("no-such-bucket-xyz", ""))
    assert collector.handle(url_event(json.dumps(REPORT)))["statusCode"] == 204
    last = log.records()[-1]
    assert (last["level"], last["event"]) == ("ERROR", "store-failed")
