"""CloudFront Functions on the local edge: viewer-request and viewer-response, in Node.

The functions run in one long-lived Node process (``cff_harness.js``), each in its own vm
context that offers what the cloudfront-js-2.0 runtime offers and refuses what it refuses
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-function-restrictions.html,
.../functions-javascript-runtime-20.html): no network, file system, timers, ``eval`` or
``new Function``; ``require`` knows only ``crypto``. The process itself runs with Node's
permission model (no file access beyond the harness, no child processes) and a small heap.
A vm context is not a security boundary: this catches code that would fail on CloudFront, it
does not contain hostile code.

Limits: code over 10 KB is refused at start (``FunctionSizeLimitExceeded`` in AWS's API).
AWS does not publish the time budget behind "compute utilization"; the local edge stops a run
after ``timeout_ms`` (default 50 ms, far above what a header function needs, so a busy laptop
does not throttle it) and answers like an execution error. Memory (2 MB on CloudFront) is not
measured per function; the process heap is capped so a runaway function cannot take the host.

Answers when a function fails (CloudFront's troubleshooting pages for 502/503): an exception,
a timeout or a result that is not a request/response object is ``503 FunctionExecutionError``;
a result that sets a header CloudFront forbids is ``502 FunctionValidationError``.

Logs as CloudFront writes them: region us-east-1, group ``/aws/cloudfront/function/<name>``,
lines prefixed with the request id, ``START DistributionID: …`` and ``END`` around the
function's ``console.log`` output, at most 10 KB per invocation.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from edgeshield.cloudfront import HeaderPairs, Trigger
from edgeshield.cloudfront.rules import is_disallowed, is_read_only
from edgeshield.emulator.logstore import LogStore
from edgeshield.errors import EdgeshieldError

CODE_MAX: Final = 10 * 1024  # bytes (CloudFront quota, not adjustable)
REGION: Final = "us-east-1"  # CloudFront Functions always log here
TRIGGERS: Final[tuple[Trigger, ...]] = ("viewer-request", "viewer-response")
_HEAP_MB: Final = 64
_REPLY_TIMEOUT_S: Final = 5.0


class FunctionError(EdgeshieldError):
    """A function could not be set up (file, size, syntax); the message says which and why."""


def log_group(name: str) -> str:
    return f"/aws/cloudfront/function/{name}"


@dataclass(frozen=True)
class FunctionSource:
    trigger: Trigger
    name: str
    code: str

    @classmethod
    def from_file(cls, trigger: str, path: Path) -> FunctionSource:
        kind = next((t for t in TRIGGERS if t == trigger), None)
        if kind is None:
            raise FunctionError(
                f"CloudFront Functions run on {' or '.join(TRIGGERS)}, not {trigger}"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FunctionError(f"cannot read {path}: {exc.strerror}") from None
        if len(data) > CODE_MAX:
            raise FunctionError(
                f"{path} is {len(data):,} bytes; CloudFront Functions are at most {CODE_MAX:,} "
                "bytes (FunctionSizeLimitExceeded)"
            )
        try:
            code = data.decode("utf-8")
        except UnicodeDecodeError:
            raise FunctionError(f"{path} is not UTF-8 text") from None
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in path.stem)[:64] or "function"
        return cls(kind, name, code)


@dataclass
class Outcome:
    """What a function did: a result, or the failure CloudFront would answer with."""

    result: dict[str, Any] | None = None
    status: int = 0  # 502/503 when the function failed
    x_cache: str = ""
    message: str = ""
    duration_ms: float = 0.0
    logs: list[str] = field(default_factory=list)


class Runtime:
    """The Node process and the functions loaded into it. One request at a time (a function
    runs in well under a millisecond; a lock keeps the line protocol simple)."""

    def __init__(
        self,
        sources: list[FunctionSource],
        logs: LogStore,
        distribution_id: str,
        timeout_ms: float = 50.0,
        node: str | None = None,
    ) -> None:
        self.sources = {s.trigger: s for s in sources}
        self.logs = logs
        self.distribution_id = distribution_id
        self.timeout_ms = timeout_ms
        self.node = node or shutil.which("node") or "/usr/bin/node"
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._ids = 0
        self._stream = ""

    def has(self, trigger: Trigger) -> bool:
        return trigger in self.sources

    async def start(self) -> None:
        """Start Node and load every function; FunctionError if one does not compile."""
        harness = resources.files("edgeshield.emulator.functions").joinpath("cff_harness.js")
        path = Path(str(harness))
        try:
            self._proc = await asyncio.create_subprocess_exec(
                self.node,
                f"--max-old-space-size={_HEAP_MB}",
                "--disallow-code-generation-from-strings",
                "--experimental-permission",
                f"--allow-fs-read={path}",
                "--no-warnings",
                str(path),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:
            raise FunctionError(f"cannot start Node ({self.node}): {exc.strerror}") from None
        day = time.strftime("%Y/%m/%d", time.gmtime())
        self._stream = f"{day}/{uuid.uuid4()}"
        for source in self.sources.values():
            reply = await self._call(
                {
                    "op": "load",
                    "name": source.name,
                    "code": source.code,
                    "timeout_ms": self.timeout_ms,
                }
            )
            if not reply.get("ok"):
                message = str((reply.get("error") or {}).get("message", "failed to load"))
                raise FunctionError(f"{source.name} ({source.trigger}): {message}")

    async def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 2.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None or proc.returncode is not None:
            return {
                "ok": False,
                "error": {"type": "runtime", "message": "the function runtime is not running"},
            }
        self._ids += 1
        message["id"] = self._ids
        proc.stdin.write((json.dumps(message) + "\n").encode())
        try:
            await proc.stdin.drain()
            line = await asyncio.wait_for(proc.stdout.readline(), _REPLY_TIMEOUT_S)
        except (TimeoutError, ConnectionError) as exc:
            await self._restart()
            return {"ok": False, "error": {"type": "runtime", "message": f"runtime lost: {exc!r}"}}
        if not line:  # Node died (heap exhausted, crash): start a fresh one for the next request
            await self._restart()
            return {
                "ok": False,
                "error": {"type": "runtime", "message": "the function runtime exited"},
            }
        try:
            reply: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            return {"ok": False, "error": {"type": "runtime", "message": "unreadable reply"}}
        return reply

    async def _restart(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        try:
            await self.start()
        except FunctionError:
            self._proc = None

    async def invoke(self, trigger: Trigger, event: dict[str, Any], request_id: str) -> Outcome:
        source = self.sources[trigger]
        async with self._lock:
            reply = await self._call(
                {"op": "run", "name": source.name, "event": event, "timeout_ms": self.timeout_ms}
            )
        outcome = Outcome(
            duration_ms=float(reply.get("ms") or 0.0), logs=list(reply.get("logs") or [])
        )
        error = reply.get("error")
        if not reply.get("ok") or error:
            kind = str((error or {}).get("type", "error"))
            text = str((error or {}).get("message", "error"))
            if kind == "timeout":
                text = (
                    f"compute utilization over 100 (stopped after {self.timeout_ms:g} ms): {text}"
                )
            outcome.status, outcome.x_cache, outcome.message = 503, "FunctionExecutionError", text
        else:
            outcome.result = reply.get("result")
            problem = _check_result(trigger, event, outcome.result)
            if problem is not None:
                outcome.status, outcome.x_cache, outcome.message = problem
        self._log(source.name, request_id, outcome)
        return outcome

    def _log(self, name: str, request_id: str, outcome: Outcome) -> None:
        now = int(time.time() * 1000)
        lines = [f"{request_id} START DistributionID: {self.distribution_id}"]
        lines += [f"{request_id} {line}" for line in outcome.logs]
        if outcome.status:
            lines.append(f"{request_id} ERROR {outcome.x_cache}: {outcome.message}")
        lines.append(f"{request_id} END")
        self.logs.put(REGION, log_group(name), self._stream, [(now, line) for line in lines])


def _headers_ok(trigger: Trigger, headers: Any) -> str | None:
    if not isinstance(headers, dict):
        return "headers must be an object"
    for name, entry in headers.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("value", ""), str):
            return f"header {name!r} must be {{value: string}}"
        if is_disallowed(name.lower()):
            return f"header {name!r} may not be set by a function"
    return None


def _check_result(
    trigger: Trigger, event: dict[str, Any], result: Any
) -> tuple[int, str, str] | None:
    """CloudFront's answer for a result it cannot use, or None."""
    if not isinstance(result, dict):
        return 503, "FunctionExecutionError", "the function returned no request or response object"
    is_response = "statusCode" in result
    if trigger == "viewer-response" and not is_response:
        return 503, "FunctionExecutionError", "viewer-response must return the response object"
    if is_response and (
        not isinstance(result["statusCode"], int) or not 100 <= result["statusCode"] <= 599
    ):
        return 503, "FunctionExecutionError", "statusCode must be an integer status"
    if "headers" not in result:  # headers left out: they stay as they were
        return None
    problem = _headers_ok(trigger, result["headers"])
    if problem is not None:
        return 502, "FunctionValidationError", problem
    # Read-only headers: changing or removing one is a validation error, as for Lambda@Edge.
    before = event["response" if trigger == "viewer-response" else "request"].get("headers", {})
    after = result["headers"]
    if not is_response or trigger == "viewer-response":
        for name in set(before) | set(after):
            if is_read_only(name, trigger) and before.get(name) != after.get(name):
                return 502, "FunctionValidationError", f"header {name!r} is read-only on {trigger}"
    return None


# -- event shapes (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html)


def to_cf_headers(headers: HeaderPairs, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in skip:
            continue
        entry = out.get(lower)
        if entry is None:
            out[lower] = {"value": value}
        else:
            entry.setdefault("multiValue", [{"value": entry["value"]}]).append({"value": value})
    return out


def from_cf_headers(headers: dict[str, Any]) -> HeaderPairs:
    out: HeaderPairs = []
    for name, entry in headers.items():
        if not isinstance(entry, dict):
            continue
        multi = entry.get("multiValue")
        if isinstance(multi, list) and multi:
            out.extend((name, str(m.get("value", ""))) for m in multi if isinstance(m, dict))
        else:
            out.append((name, str(entry.get("value", ""))))
    return out


def _querystring(text: str) -> dict[str, Any]:
    from urllib.parse import parse_qsl

    out: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        entry = out.get(key)
        if entry is None:
            out[key] = {"value": value}
        else:
            entry.setdefault("multiValue", [{"value": entry["value"]}]).append({"value": value})
    return out


def _cookies(headers: HeaderPairs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in headers:
        if name.lower() != "cookie":
            continue
        for part in value.split(";"):
            key, _, val = part.strip().partition("=")
            if key:
                out[key] = {"value": val}
    return out


def viewer_event(
    trigger: Trigger,
    *,
    method: str,
    uri: str,
    querystring: str,
    headers: HeaderPairs,
    client_ip: str,
    distribution_id: str,
    distribution_domain: str,
    request_id: str,
    status: int = 0,
    status_description: str = "",
    response_headers: HeaderPairs | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "1.0",
        "context": {
            "distributionDomainName": distribution_domain,
            "distributionId": distribution_id,
            "eventType": trigger,
            "requestId": request_id,
        },
        "viewer": {"ip": client_ip},
        "request": {
            "method": method,
            "uri": uri,
            "querystring": _querystring(querystring),
            "headers": to_cf_headers(headers, skip=("cookie",)),
            "cookies": _cookies(headers),
        },
    }
    if trigger == "viewer-response":
        event["response"] = {
            "statusCode": status,
            "statusDescription": status_description,
            "headers": to_cf_headers(response_headers or [], skip=("set-cookie",)),
            "cookies": {},  # Set-Cookie lines pass through unchanged (see response_headers_from)
        }
    return event


def response_headers_from(result: dict[str, Any], original: HeaderPairs) -> HeaderPairs:
    """The viewer's headers from a viewer-response result (Set-Cookie kept from the origin)."""
    cookies = [("Set-Cookie", v) for n, v in original if n.lower() == "set-cookie"]
    return from_cf_headers(result.get("headers") or {}) + cookies
