"""The report parser: both wire formats, what is kept, what is refused."""

from __future__ import annotations

import json

import pytest

from edgeshield.aws.csp_reports import (
    MAX_BODY_BYTES,
    ReportError,
    clean_url,
    directive_name,
    media_type,
    parse_reports,
)

CSP2 = {
    "csp-report": {
        "document-uri": "https://example.com/account/reset?token=SECRET#frag",
        "referrer": "https://ref.example/?q=1",
        "violated-directive": "script-src-elem 'self'",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'; report-uri /_edgeshield/csp-report",
        "disposition": "enforce",
        "blocked-uri": "https://user:pw@cdn.tracker.example:8443/t.js?uid=42&sid=abc",
        "status-code": 200,
        "source-file": "https://example.com/app.js?v=3",
        "line-number": 12,
        "column-number": 7,
    }
}

REPORTING_API = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://example.com/page?session=xyz",
        "user_agent": "Mozilla/5.0 (X11) Chrome/131",
        "body": {
            "documentURL": "https://example.com/page?session=xyz",
            "blockedURL": "inline",
            "effectiveDirective": "style-src-attr",
            "originalPolicy": "style-src 'self'",
            "disposition": "report",
            "statusCode": 200,
            "sample": "color:red",
        },
    },
    {"type": "deprecation", "url": "https://example.com/", "body": {"id": "x"}},
]


def test_report_uri_format_keeps_only_safe_fields() -> None:
    [v] = parse_reports(json.dumps(CSP2).encode(), "application/csp-report", "UA/1")
    assert v.document_uri == "https://example.com/account/reset"
    assert v.blocked_uri == "https://cdn.tracker.example:8443/t.js"
    assert v.effective_directive == "script-src-elem"
    assert v.disposition == "enforce"
    assert v.status_code == 200
    assert v.user_agent == "UA/1"
    assert v.source_file == "https://example.com/app.js"
    assert (v.line_number, v.column_number) == (12, 7)
    flat = json.dumps(v.to_dict())
    for secret in ("SECRET", "uid=42", "sid=abc", "pw@", "frag", "original-policy"):
        assert secret not in flat


def test_reporting_api_format_skips_other_report_types() -> None:
    violations = parse_reports(json.dumps(REPORTING_API).encode(), "application/reports+json")
    assert len(violations) == 1
    v = violations[0]
    assert v.document_uri == "https://example.com/page"
    assert v.blocked_uri == "inline"
    assert v.effective_directive == "style-src-attr"
    assert v.disposition == "report"
    assert v.user_agent.startswith("Mozilla/5.0")
    assert v.report_format == "reports+json"


def test_csp2_without_effective_directive_uses_violated_directive() -> None:
    body = {"csp-report": {"violated-directive": "img-src https:", "blocked-uri": "data"}}
    [v] = parse_reports(json.dumps(body).encode(), "application/json")
    assert v.effective_directive == "img-src"
    assert v.blocked_uri == "data"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("data:image/png;base64,AAAA", "data"),
        ("blob:https://example.com/uuid", "blob"),
        ("eval", "eval"),
        ("https://a.example/p?q#f", "https://a.example/p"),
        ("", ""),
        (42, ""),
    ],
)
def test_clean_url(value: object, expected: str) -> None:
    assert clean_url(value) == expected


def test_unknown_directive_becomes_other_to_bound_metric_dimensions() -> None:
    assert directive_name("x-made-up-directive") == "other"
    assert directive_name(None, None) == "other"
    assert directive_name("SCRIPT-SRC") == "script-src"


def test_media_type_ignores_parameters_and_case() -> None:
    assert media_type("Application/CSP-Report; charset=UTF-8") == "application/csp-report"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"", "application/csp-report", 400),
        (b"{not json", "application/csp-report", 400),
        (b"\xff\xfe", "application/csp-report", 400),
        (b'{"csp-report": "text"}', "application/csp-report", 400),
        (b'{"other": 1}', "application/csp-report", 400),
        (b"[]", "application/csp-report", 400),  # a list is not the report-uri format
        (b'{"csp-report": {}}', "application/reports+json", 400),
        (b'[{"type": "csp-violation", "body": 3}]', "application/reports+json", 400),
        (b"[1]", "application/reports+json", 400),
        (b'{"csp-report": {}}', "text/plain", 400),
        (b'{"csp-report": {}}', None, 400),
        (b"[" + b'{"type":"x"},' * 100 + b'{"type":"x"}]', "application/reports+json", 400),
        (b"x" * (MAX_BODY_BYTES + 1), "application/csp-report", 413),
    ],
)
def test_refused_bodies(body: bytes, content_type: str | None, status: int) -> None:
    with pytest.raises(ReportError) as info:
        parse_reports(body, content_type)
    assert info.value.status == status


def test_body_of_exactly_the_limit_is_parsed() -> None:
    report = {"csp-report": {"document-uri": "https://e.example/", "script-sample": ""}}
    raw = json.dumps(report).encode()
    raw = raw[:-1] + b" " * (MAX_BODY_BYTES - len(raw)) + b"}"
    assert len(raw) == MAX_BODY_BYTES
    assert len(parse_reports(raw, "application/csp-report")) == 1
