"""Branches no test reached before (issue 9.10): the collector failing closed without its
function name, and log merging across interleaved streams read in many small pages."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from typing import Any

import pytest

from edgeshield.aws.collector import from_environment
from edgeshield.aws.logs import MultiRegionReader
from edgeshield.logrecords import edge_function_log_group
from edgeshield.report_route import SECRET_HEADER

from .conftest import boto
from .test_collector import REPORT, url_event

# --- the collector fails closed ---------------------------------------------------------------


def test_collector_without_its_function_name_refuses_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The KMS encryption context is the function's name; without AWS_LAMBDA_FUNCTION_NAME the
    secret cannot be decrypted, so every report is refused (503), never accepted unchecked."""
    environ = {
        "EDGESHIELD_SECRET_CIPHERTEXT": base64.b64encode(b"opaque-ciphertext").decode(),
        "EDGESHIELD_REQUIRE_SECRET": "1",
    }
    collector = from_environment(environ)
    cold_start = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert cold_start == [
        {
            "level": "ERROR",
            "event": "shared-secret",
            "state": "failed",
            "reason": "AWS_LAMBDA_FUNCTION_NAME is not set; cannot build the context",
        }
    ]
    body = json.dumps(REPORT)
    for headers in ({}, {SECRET_HEADER: "anything"}, {SECRET_HEADER: ""}):
        assert collector.handle(url_event(body, headers=headers))["statusCode"] == 503


def test_collector_with_a_blank_function_name_fails_closed_too() -> None:
    collector = from_environment(
        {
            "EDGESHIELD_SECRET_CIPHERTEXT": base64.b64encode(b"x").decode(),
            "AWS_LAMBDA_FUNCTION_NAME": "   ",
        }
    )
    assert collector.secret.state == "failed"
    assert collector.handle(url_event(json.dumps(REPORT)))["statusCode"] == 503


# --- log merging across interleaved, paged streams ---------------------------------------------


class SmallPages:
    """A real logs client whose FilterLogEvents pages hold ``size`` events, so a handful of
    events exercises the nextToken loop as a busy function's logs do at 10,000 per page."""

    def __init__(self, client: Any, size: int) -> None:
        self._client = client
        self._size = size
        self.calls = 0

    def filter_log_events(self, **params: Any) -> Any:
        self.calls += 1
        return self._client.filter_log_events(limit=self._size, **params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _put_streams(moto_url: str, region: str, group: str, streams: dict[str, list[int]]) -> None:
    logs = boto("logs", moto_url, region)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    for stream, stamps in streams.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": ts, "message": f"{region} {stream} {ts}"} for ts in stamps],
        )


def test_interleaved_streams_in_small_pages_merge_in_time_order(moto_url: str) -> None:
    group = edge_function_log_group(f"paged-{time.monotonic_ns()}")
    now = int(time.time() * 1000) - 60_000
    # Three execution environments in us-east-1 and two in eu-west-1, their events interleaved
    # in time (stream A has 0, 5, 10, ...; B has 1, 6, 11, ...), 60 events in all.
    layout = {
        "us-east-1": {f"2026/11/30/[1]{name}": [now + i for i in range(k, 60, 5)] for k, name in enumerate("abc")},
        "eu-west-1": {f"2026/11/30/[1]{name}": [now + i for i in range(k, 60, 5)] for k, name in ((3, "d"), (4, "e"))},
    }  # fmt: skip
    for region, streams in layout.items():
        _put_streams(moto_url, region, group, streams)
    clients: dict[str, SmallPages] = {}

    def factory(region: str) -> SmallPages:
        clients[region] = SmallPages(boto("logs", moto_url, region), size=4)
        return clients[region]

    reader = MultiRegionReader(factory, ["us-east-1", "eu-west-1"], [group])
    events = list(reader.read(start_ms=now - 1000))
    assert [e.timestamp_ms for e in events] == [now + i for i in range(60)]
    assert len({(e.region, e.stream, e.message) for e in events}) == 60  # none twice
    assert [e.region for e in events[:5]] == ["us-east-1"] * 3 + ["eu-west-1"] * 2
    # 36 events in us-east-1 at 4 a page: the reader had to follow nextToken many times.
    assert clients["us-east-1"].calls >= 9 and clients["eu-west-1"].calls >= 6
