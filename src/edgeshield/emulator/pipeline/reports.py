"""What the edge says when a function fails or returns something doubtful, or the origin
fails: CloudFront's own validation log, our warning lines, and one console line per error. Untrusted text (function
output) is made printable before it reaches the console."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from edgeshield.cloudfront import Violation
from edgeshield.emulator.console import printable
from edgeshield.emulator.functions.runtime import FunctionSpec
from edgeshield.emulator.logstore import LogStore
from edgeshield.emulator.pipeline.answers import Answer
from edgeshield.logrecords import edge_validation_log_group

Console = Callable[[str], None]
# A console line's untrusted part (a function's or origin's text) is cut at this length, so the
# request id after it always shows.
_DETAIL_LIMIT: Final = 500


class Failed(Exception):
    """A stage ends the request with CloudFront's own answer."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.x_cache)
        self.answer = answer


def _line(head: str, who: str, why: str, cf_id: str) -> str:
    """A console line: what happened, whose doing, why, and the request id. The untrusted
    parts are made printable and cut, not the line: the id stays at its end."""
    shown = printable(why, limit=_DETAIL_LIMIT)
    return f"{head}: {printable(who, limit=200)}: {shown} [X-Amz-Cf-Id {cf_id}]"


def _function(spec: FunctionSpec) -> str:
    return f"{spec.trigger} function {spec.handler}"


def origin_failed(console: Console | None, answer: Answer, detail: str, cf_id: str) -> None:
    """The console line for an error page the origin caused: the viewer's page says only
    that CloudFront could not connect (or the like); this says what happened."""
    if console is not None:
        console(_line(f"{answer.status} {answer.x_cache}", "the origin", detail, cf_id))


def say(console: Console | None, answer: Answer, spec: FunctionSpec, cf_id: str, why: str) -> None:
    """The console line for a function-caused error: what the viewer got, and why."""
    if console is not None:
        console(_line(f"{answer.status} {answer.x_cache}", _function(spec), why, cf_id))


def warn(
    console: Console | None,
    logs: LogStore,
    spec: FunctionSpec,
    ids: tuple[str, str],
    warnings: list[Violation],
) -> None:
    """A result served although it breaks a rule AWS documents nowhere: one warning line per
    finding in the function's log group (CloudFront writes no such line: these are ours)
    and on the console. ``ids``: the Lambda request id and the X-Amz-Cf-Id."""
    lambda_id, cf_id = ids
    now = int(time.time() * 1000)
    stream = time.strftime("%Y/%m/%d/", time.gmtime()) + "[edgeshield]warnings"
    events = [
        (now, f"{lambda_id} WARNING edgeshield serve: {v.message} (X-Amz-Cf-Id {cf_id})")
        for v in warnings
    ]
    logs.put(spec.region, spec.log_group, stream, events)
    if console is None:
        return
    for v in warnings:
        # Each warning's message says how the result was served, and that AWS is silent.
        console(_line("warning", _function(spec), v.message, cf_id))


def log_validation(
    logs: LogStore,
    where: tuple[str, str],
    spec: FunctionSpec,
    ids: tuple[str, str],
    violations: list[Violation],
) -> None:
    """CloudFront's own log of a rejected result, in the region that ran the function.
    ``where``: that region and the distribution id; ``ids``: Lambda's request id and the
    X-Amz-Cf-Id."""
    region, distribution_id = where
    lambda_id, cf_id = ids
    now = int(time.time() * 1000)
    stream = time.strftime("%Y/%m/%d/", time.gmtime()) + distribution_id
    events = [
        (
            now,
            f"{cf_id} ERROR Validation error: {v.message}\n"
            f"EventType: {spec.trigger}, FunctionArn: {spec.arn}, "
            f"LambdaRequestId: {lambda_id}",
        )
        for v in violations
    ]
    logs.put(region, edge_validation_log_group(distribution_id), stream, events)
