"""Log records as CloudWatch Logs holds them, shared by the local log store (emulator) and the
multi-region reader (aws). Pure: no I/O.

Lambda@Edge replicas write to ``/aws/lambda/us-east-1.<function>`` in the region that ran them,
and CloudFront writes validation errors to ``/aws/cloudfront/LambdaEdge/<DistributionId>``
(AWS, "Edge function logs", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html, and
"Test and debug Lambda@Edge functions", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-testing-debugging.html),
so a reader always merges several (region, group) sources.
"""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class LogEvent:
    """One log event. Ordered by time first, so sources merge with ``heapq.merge``."""

    timestamp_ms: int
    region: str
    group: str
    stream: str
    message: str


def edge_function_log_group(function_name: str) -> str:
    """The group a Lambda@Edge replica logs to, in whichever region ran it."""
    return f"/aws/lambda/us-east-1.{function_name}"


def edge_validation_log_group(distribution_id: str) -> str:
    """The group CloudFront writes Lambda@Edge validation errors to."""
    return f"/aws/cloudfront/LambdaEdge/{distribution_id}"


def merge(sources: Iterable[Iterable[LogEvent]]) -> Iterator[LogEvent]:
    """Merge already time-ordered sources into one time-ordered stream."""
    return heapq.merge(*sources)


_SINCE_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now_ms: int | None = None) -> int:
    """``"10m"``/``"1h"``/``"2d"`` -> the epoch-millisecond start time. Raises ValueError with
    the accepted forms when the text is not one of them."""
    match = _SINCE_RE.match(text)
    if not match:
        raise ValueError(
            f"invalid duration {text!r}; use a number and a unit: 30s, 10m, 1h, 2d or 1w"
        )
    amount, unit = int(match.group(1)), match.group(2)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return now - amount * _UNIT_SECONDS[unit] * 1000
