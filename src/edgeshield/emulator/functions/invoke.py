"""Run one Lambda@Edge function once, as Lambda would, and judge its result as CloudFront would.

This is the library behind ``edgeshield invoke`` and the pytest plugin's ``invoke_edge``: the
function runs in a worker process with Lambda's semantics (reserved environment only, the
trigger's memory and timeout, a fresh execution environment), its output is captured as its
CloudWatch log lines, and the result goes through the same checks CloudFront applies.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from edgeshield.bundle import stage
from edgeshield.cloudfront import Violation, check_result, event_trigger, normalize_event
from edgeshield.cloudfront.rules import MEMORY_MB_VIEWER, TIMEOUT_SECONDS, Trigger
from edgeshield.emulator.functions.runtime import FunctionPool, FunctionSpec, function_name_for
from edgeshield.emulator.logstore import LogStore, read_events
from edgeshield.errors import EdgeshieldError
from edgeshield.packaging import EDGE_HANDLER

if TYPE_CHECKING:
    from edgeshield.policy import CompiledPolicy

# The kinds of Violation that make CloudFront refuse a result (others are advice).
_REFUSING = frozenset({"validation", "execution"})


class InvokeError(EdgeshieldError, ValueError):
    """The invocation could not be set up: a bad timeout, both a handler and a policy, ..."""


@dataclass(frozen=True)
class InvokeResult:
    """What one invocation produced and what CloudFront would make of it."""

    trigger: Trigger
    status: Literal["ok", "error", "timeout"]
    result: Any
    error_type: str | None
    error_message: str | None
    duration_ms: float
    timeout_s: float
    violations: tuple[Violation, ...]
    logs: tuple[str, ...]

    @property
    def refusals(self) -> tuple[Violation, ...]:
        """The violations that make CloudFront refuse the result (not mere warnings)."""
        return tuple(v for v in self.violations if v.kind in _REFUSING)

    @property
    def accepted(self) -> bool:
        """True when the function returned and CloudFront would use its result."""
        return self.status == "ok" and not self.refusals

    @property
    def cloudfront_error(self) -> str | None:
        """The error CloudFront would report, ``None`` when it accepts the result:
        ``LambdaValidationError`` (502), ``LambdaExecutionError`` or ``LambdaLimitExceeded``
        (503 by default)."""
        if self.status == "timeout":
            return "LambdaLimitExceeded"
        if self.status == "error":
            return "LambdaExecutionError"
        refusals = self.refusals
        if not refusals:
            return None
        return (
            "LambdaValidationError" if refusals[0].kind == "validation" else "LambdaExecutionError"
        )

    @property
    def http_status(self) -> int | None:
        """The status a viewer would get instead of the function's result (None: accepted)."""
        error = self.cloudfront_error
        if error is None:
            return None
        return 502 if error == "LambdaValidationError" else 503

    @property
    def verdict(self) -> str:
        """CloudFront's verdict in one line: ``accepted``, or the error, the viewer's status and
        why (the first refusal, or the function's own error)."""
        error = self.cloudfront_error
        if error is None:
            return "accepted"
        if self.status == "ok":
            why = self.refusals[0].message
        elif self.status == "timeout":
            why = f"the function timed out after {self.timeout_s:g} s"
        else:
            why = f"{self.error_type}: {self.error_message}"
        return f"{error} ({self.http_status}): {_cut(why)}"

    def __repr__(self) -> str:
        # Short, so that pytest's "where False = InvokeResult(...).accepted" shows the reason
        # rather than the event and the logs cut off in the middle.
        return f"InvokeResult({self.trigger}, {self.verdict})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "status": self.status,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "duration_ms": self.duration_ms,
            "result": self.result,
            "violations": [
                {"kind": v.kind, "message": v.message, "header": v.header} for v in self.violations
            ],
            "logs": list(self.logs),
            "accepted": self.accepted,
        }


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_timeout(timeout: float | None, trigger: Trigger) -> None:
    limit = TIMEOUT_SECONDS[trigger]
    if timeout is not None and not (0 < timeout <= limit):  # also refuses nan
        raise InvokeError(
            f"timeout {timeout} must be more than 0 and at most {trigger}'s limit of {limit:g} s "
            "(5 s at viewer triggers, 30 s at origin triggers)"
        )


def _missing_handler(handler: str, error_type: str | None, message: str) -> bool:
    """True when the handler itself is not there (its module is not in the task root, or the
    module has no such function): a mistake in the test, not a function that fails. An import
    that fails inside the module is the function's failure, as on Lambda."""
    if error_type == "Runtime.HandlerNotFound":
        return True
    if error_type != "Runtime.ImportModuleError":
        return False
    parts = handler.rpartition(".")[0].split(".")
    names = {".".join(parts[: i + 1]) for i in range(len(parts))}
    return any(message.endswith(f"No module named '{name}'") for name in names)


async def invoke_async(
    event: Mapping[str, Any],
    *,
    handler: str | None = None,
    compiled_policy: CompiledPolicy | None = None,
    trigger: Trigger | None = None,
    timeout: float | None = None,
    task_root: Path | None = None,
) -> InvokeResult:
    """Run ``handler`` (``module.function``, imported from ``task_root``, default the current
    directory) — or, without a handler, edgeshield's own function with ``compiled_policy`` —
    on ``event``. The event may be a CloudFront event or a SAM CLI sample (give ``trigger``
    when it does not say). Raises ``EventError`` for a malformed event, ``InvokeError`` for
    bad arguments (a timeout above the trigger's limit; a handler whose module is not in the
    task root, or that the module does not define); a failing function is a result, not an
    exception (also one whose module fails to import something)."""
    if handler is not None and compiled_policy is not None:
        raise InvokeError("give a handler or a compiled policy, not both")
    normalized = normalize_event(dict(event), trigger)
    kind = event_trigger(normalized)
    _check_timeout(timeout, kind)
    timeout_s = timeout if timeout is not None else TIMEOUT_SECONDS[kind]
    with tempfile.TemporaryDirectory(prefix="edgeshield-invoke-") as tmp:
        scratch = Path(tmp)
        if handler is None:
            if compiled_policy is None:
                from edgeshield.policy import load_and_compile

                compiled_policy = load_and_compile(None)
            root, target, name, stdlib_only = (
                stage(compiled_policy, scratch / "bundle"),
                EDGE_HANDLER,
                "edgeshield",
                True,
            )
        else:
            root = (task_root or Path.cwd()).resolve()
            target, name, stdlib_only = handler, function_name_for(handler), False
        spec = FunctionSpec(
            trigger=kind,
            handler=target,
            task_root=root,
            name=name,
            memory_mb=MEMORY_MB_VIEWER,
            timeout_s=timeout_s,
            region="us-east-1",
            stdlib_only=stdlib_only,
        )
        logs_root = scratch / "logs"
        pool = FunctionPool(spec, LogStore(logs_root), max_workers=1, scratch=scratch)
        try:
            invocation = await pool.invoke(normalized)
        finally:
            await pool.close()
        log_lines = tuple(e.message.rstrip("\n") for e in read_events(logs_root))
    if handler is not None and _missing_handler(
        handler, invocation.error_type, invocation.error_message or ""
    ):
        raise InvokeError(f"handler {handler!r}: {invocation.error_message} (imported from {root})")
    violations = (
        tuple(check_result(kind, normalized, invocation.result))
        if invocation.status == "ok"
        else ()
    )
    return InvokeResult(
        trigger=kind,
        status=invocation.status,
        result=invocation.result,
        error_type=invocation.error_type,
        error_message=invocation.error_message,
        duration_ms=invocation.duration_ms,
        timeout_s=timeout_s,
        violations=violations,
        logs=log_lines,
    )


def invoke(
    event: Mapping[str, Any],
    *,
    handler: str | None = None,
    compiled_policy: CompiledPolicy | None = None,
    trigger: Trigger | None = None,
    timeout: float | None = None,
    task_root: Path | None = None,
) -> InvokeResult:
    """Synchronous ``invoke_async``. Called where an event loop is already running (an async
    test), it runs on its own loop in another thread and blocks this one until it is done."""
    call = invoke_async(
        event,
        handler=handler,
        compiled_policy=compiled_policy,
        trigger=trigger,
        timeout=timeout,
        task_root=task_root,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call)
    with ThreadPoolExecutor(1, thread_name_prefix="edgeshield-invoke") as pool:
        return pool.submit(asyncio.run, call).result()


__all__ = ["InvokeError", "InvokeResult", "invoke", "invoke_async"]
