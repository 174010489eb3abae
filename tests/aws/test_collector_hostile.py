"""The collector Lambda against reports and events built to break it or its readers (issue 11):
whatever arrives, the answer is a status code, and what it logs is valid UTF-8 that no
terminal interprets."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from edgeshield.aws.collector import Collector
from edgeshield.aws.kms_env import Secret

from .test_collector import Capture, url_event

UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")

HOSTILE = [
    '{"csp-report":{"blocked-uri":"\\udfff","effective-directive":"img-src"}}',
    '{"csp-report":{"blocked-uri":"https://e.example/\\u001b]8;;https://evil\\u001b\\\\x",'
    '"document-uri":"https://d.example/a[/]b\\u202e","effective-directive":"img-src"}}',
    '{"csp-report":{"blocked-uri":"https://e.example/\\r\\nFAKE","line-number":"\\u00b2",'
    '"column-number":"\\u0661","status-code":"\\u00b9","effective-directive":"img-src"}}',
    '[{"type":"csp-violation","url":"https://d.example/\\ud800","user_agent":"\\u001b[2J",'
    '"body":{"blockedURL":"inline","effectiveDirective":"script-src"}}]',
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_report_is_logged_clean(body: str) -> None:
    log = Capture()
    content_type = "application/reports+json" if body.startswith("[") else "application/csp-report"
    result = Collector(Secret("off"), emit=log).handle(url_event(body, content_type))
    assert result["statusCode"] == 204
    assert log.lines
    for line in log.lines:
        line.encode("utf-8")  # strict: no lone surrogate survives
        record = json.loads(line)
        for value in record.values():
            if isinstance(value, str):
                assert not UNSAFE.search(value), value


@pytest.mark.parametrize(
    "event",
    [
        {"headers": None, "requestContext": None, "body": "{}"},
        {"headers": {"x-edgeshield-secret": "\udfff"}, "requestContext": {"http": "POST"}},
        {**url_event(None), "body": '{"csp-report":{"blocked-uri":"\udfff"}}'},
        {**url_event(None), "body": 42},
    ],
)
def test_malformed_events_get_a_status_not_an_exception(event: dict[str, Any]) -> None:
    for secret in (Secret("off"), Secret("ready", value="s")):
        result = Collector(secret, emit=Capture()).handle(event)
        assert 400 <= result["statusCode"] < 500
