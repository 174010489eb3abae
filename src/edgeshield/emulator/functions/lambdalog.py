"""The lines Lambda writes around each invocation, in CloudWatch's format. Pure."""

from __future__ import annotations

import math
import secrets
import time
from typing import Final

ACCOUNT_ID: Final = "123456789012"  # AWS's documentation account id: this is not a real one
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html
HOME_REGION: Final = "us-east-1"  # Lambda@Edge functions are always created here ("Lambda Region")
VERSION: Final = "1"


def log_stream_name(now: float | None = None) -> str:
    """``YYYY/MM/DD/[version]<32 hex>``: one stream per execution environment (worker)."""
    day = time.strftime("%Y/%m/%d", time.gmtime(time.time() if now is None else now))
    return f"{day}/[{VERSION}]{secrets.token_hex(16)}"


def function_arn(name: str, version: str = VERSION, region: str = HOME_REGION) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}:{version}"


def start_line(request_id: str, version: str = VERSION) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_used_mb: int,
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """``REPORT RequestId: ... Duration: ... ms Billed Duration: ... ms ...``, tab-separated.
    Billing rounds up to the millisecond; the init phase is reported separately."""
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {max_memory_used_mb} MB\t"
    )
    if init_ms is not None:
        line += f"Init Duration: {init_ms:.2f} ms\t"
    if status is not None:
        line += f"Status: {status}\t"
    if error_type is not None:
        line += f"Error Type: {error_type}\t"
    return line


def timeout_line(request_id: str, timeout_s: float, now: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}Z {request_id} Task timed out after {timeout_s:.2f} seconds"


def error_event(error_type: str, message: str, stack: list[str]) -> str:
    """How the Python runtime logs an unhandled error: one multi-line event."""
    text = f"[ERROR] {error_type}: {message}"
    if stack:
        text += "\nTraceback (most recent call last):\n" + "".join(stack).rstrip("\n")
    return text


def exit_error_lines(request_id: str, detail: str) -> list[str]:
    return [
        f"RequestId: {request_id} Error: Runtime exited with error: {detail}",
        "Runtime.ExitError",
    ]


def output_events(text: str) -> list[str]:
    """The function's captured output as log events: one per line, as Lambda splits stdout."""
    return [line for line in text.splitlines() if line.strip()]
