"""Read a Lambda@Edge function's logs from every region at once.

A replica logs in the region that ran it, to ``/aws/lambda/us-east-1.<function>``, and
CloudFront puts validation errors in ``/aws/cloudfront/LambdaEdge/<distribution>``
(AWS, "Edge function logs", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html, and
"Test and debug Lambda@Edge functions", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-testing-debugging.html),
so one request's story can be in any of a dozen regions. This
module queries each (region, group) concurrently, merges the results by time and shows the
region; groups that do not exist in a region are skipped quietly. Throttling is retried with
exponential backoff and jitter. boto3 is imported lazily (and only by the caller's factory).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from edgeshield.errors import EdgeshieldError
from edgeshield.logrecords import (
    LogEvent,
    edge_function_log_group,
    edge_validation_log_group,
    merge,
)

# Regions that host CloudFront's regional edge caches, where Lambda@Edge replicas run. AWS
# does not publish this as a single list, so --regions overrides it.
EDGE_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
)

# CloudWatch Logs accepts only these retention periods (days).
RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

THROTTLE_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"}
)
# A region the account has not opted into answers with an invalid-token error: not our problem.
SKIP_CODES = frozenset({"ResourceNotFoundException", "UnrecognizedClientException"})

# How far back each follow poll looks again for events that were ingested late.
FOLLOW_OVERLAP_MS = 30_000

ClientFactory = Callable[[str], Any]  # region -> boto3 "logs" client


class LogsError(EdgeshieldError, RuntimeError):
    """A failure the user must act on (credentials, permissions); carries one clear line."""


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def with_backoff(
    call: Callable[[], Any],
    *,
    attempts: int = 6,
    base: float = 0.2,
    cap: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Run ``call``; on a throttling error wait ``base * 2**n`` (full jitter, at most ``cap``)
    and try again, up to ``attempts`` times in all."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if error_code(exc) not in THROTTLE_CODES or attempt == attempts - 1:
                raise
            sleep(random.uniform(0, min(cap, base * 2**attempt)))
    raise AssertionError("unreachable")


def log_groups(function: str | None, distribution: str | None) -> list[str]:
    groups = []
    if function:
        groups.append(edge_function_log_group(function))
    if distribution:
        groups.append(edge_validation_log_group(distribution))
    return groups


def filter_pattern(text: str | None) -> str | None:
    """A CloudWatch filter pattern that matches ``text`` as a phrase; the reader also checks
    the substring itself, so the result is exact whatever the service makes of the pattern."""
    if not text:
        return None
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Source:
    region: str
    group: str
    seen: dict[str, int] = field(default_factory=dict)  # event id -> timestamp, yielded already
    last_ms: int = 0

    def forget_before(self, ms: int) -> None:
        """Drop ids older than any later poll can return, so a long follow stays small."""
        self.seen = {k: ts for k, ts in self.seen.items() if ts >= ms}


def _describe_failure(exc: BaseException, region: str) -> LogsError:
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return LogsError(
            "no AWS credentials found; set AWS_PROFILE / --profile or AWS_ACCESS_KEY_ID"
        )
    if name == "ProfileNotFound":
        return LogsError(str(exc))
    if name == "EndpointConnectionError":
        return LogsError(f"cannot reach CloudWatch Logs in {region}: {exc}")
    code = error_code(exc)
    if code in ("AccessDeniedException", "AccessDenied"):
        return LogsError(
            f"access denied reading logs in {region}; the caller needs logs:FilterLogEvents"
        )
    return LogsError(f"{region}: {code or name}: {exc}")


def fetch(
    client: Any,
    source: Source,
    *,
    start_ms: int | None,
    end_ms: int | None = None,
    text: str | None = None,
    limit: int = 10_000,
) -> list[LogEvent]:
    """Events of one (region, group), oldest first; [] when the group does not exist there."""
    params: dict[str, Any] = {"logGroupName": source.group}
    if start_ms is not None:
        params["startTime"] = start_ms
    if end_ms is not None:
        params["endTime"] = end_ms
    pattern = filter_pattern(text)
    if pattern:
        params["filterPattern"] = pattern
    events: list[LogEvent] = []
    token: str | None = None
    while len(events) < limit:
        page_params = dict(params, nextToken=token) if token else params
        try:
            page = with_backoff(partial(client.filter_log_events, **page_params))
        except Exception as exc:
            if error_code(exc) in SKIP_CODES:
                return []
            raise
        for item in page.get("events", []):
            event_id = str(item.get("eventId", ""))
            message = str(item.get("message", "")).rstrip("\n")
            if text and text not in message:
                continue
            if event_id and event_id in source.seen:
                continue
            if event_id:
                source.seen[event_id] = int(item.get("timestamp", 0))
            events.append(
                LogEvent(
                    timestamp_ms=int(item.get("timestamp", 0)),
                    region=source.region,
                    group=source.group,
                    stream=str(item.get("logStreamName", "")),
                    message=message,
                )
            )
        token = page.get("nextToken")
        if not token:
            break
    events.sort()
    if events:
        source.last_ms = max(source.last_ms, events[-1].timestamp_ms)
    return events


class MultiRegionReader:
    """Reads the same groups in many regions concurrently. ``clients`` builds one logs client
    per region (the CLI passes a boto3 session's, honouring --profile and the endpoint)."""

    def __init__(
        self,
        clients: ClientFactory,
        regions: Sequence[str],
        groups: Sequence[str],
        *,
        max_workers: int = 16,
    ) -> None:
        self._factory = clients
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.sources = [Source(region, group) for region in regions for group in groups]
        self.max_workers = max(1, min(max_workers, len(self.sources)))

    def client(self, region: str) -> Any:
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._factory(region)
            return self._clients[region]

    def _gather(self, job: Callable[[Source], list[LogEvent]]) -> list[list[LogEvent]]:
        def run(source: Source) -> list[LogEvent]:
            try:
                return job(source)
            except LogsError:
                raise
            except Exception as exc:
                raise _describe_failure(exc, source.region) from exc

        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            return list(pool.map(run, self.sources))

    def read(
        self, *, start_ms: int | None, end_ms: int | None = None, text: str | None = None
    ) -> Iterator[LogEvent]:
        """All matching events between the times, merged by time across regions."""
        results = self._gather(
            lambda s: fetch(self.client(s.region), s, start_ms=start_ms, end_ms=end_ms, text=text)
        )
        return merge(results)

    def follow(
        self,
        *,
        start_ms: int | None,
        text: str | None = None,
        poll_seconds: float = 2.0,
        stop: threading.Event | None = None,
    ) -> Iterator[LogEvent]:
        """What :meth:`read` gives, then new events as they arrive, until ``stop`` is set.
        Each poll re-reads each source from a little before the newest event it gave (events
        can arrive late, with older timestamps); event ids drop the repeats."""
        yield from self.read(start_ms=start_ms, text=text)
        halt = stop or threading.Event()
        while not halt.wait(poll_seconds):
            results = self._gather(
                lambda s: fetch(
                    self.client(s.region),
                    s,
                    start_ms=max(s.last_ms - FOLLOW_OVERLAP_MS, start_ms or 0) or start_ms,
                    text=text,
                )
            )
            for source in self.sources:
                source.forget_before(source.last_ms - FOLLOW_OVERLAP_MS)
            yield from merge(results)

    def set_retention(self, days: int) -> list[tuple[str, str, str]]:
        """Put ``days`` of retention on each group that exists; (region, group, outcome)."""
        if days not in RETENTION_DAYS:
            raise ValueError(
                f"CloudWatch Logs does not accept {days} days; use one of "
                + ", ".join(map(str, RETENTION_DAYS))
            )

        def apply(source: Source) -> list[tuple[str, str, str]]:
            client = self.client(source.region)
            try:
                with_backoff(
                    lambda: client.put_retention_policy(
                        logGroupName=source.group, retentionInDays=days
                    )
                )
            except Exception as exc:
                if error_code(exc) in SKIP_CODES:
                    return [(source.region, source.group, "absent")]
                raise
            return [(source.region, source.group, f"set to {days} days")]

        def run(source: Source) -> list[tuple[str, str, str]]:
            try:
                return apply(source)
            except Exception as exc:
                raise _describe_failure(exc, source.region) from exc

        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            rows = [row for part in pool.map(run, self.sources) for row in part]
        return rows


def format_event(event: LogEvent, *, show_group: bool = True) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event.timestamp_ms / 1000))
    millis = event.timestamp_ms % 1000
    where = f"{event.region} {event.group}" if show_group else event.region
    return f"{stamp}.{millis:03d}Z {where} {event.message}"


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))
