"""Who runs a trigger's function for the edge.

``Invoker`` is the little the edge needs: the function's spec (for log groups and console
lines) and ``invoke(event) -> Invocation``. ``emulator.functions.runtime.FunctionPool`` (worker
processes, Lambda's isolation and timeouts) satisfies it; so does ``InMemoryInvoker``, which
calls a plain Python handler in this process: no isolation and no timeout, for tests of the
edge itself and of handlers that are safe to run in-process.
"""

from __future__ import annotations

import copy
import inspect
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from edgeshield.cloudfront import Trigger
from edgeshield.cloudfront.rules import MEMORY_MB_VIEWER, TIMEOUT_SECONDS
from edgeshield.emulator.functions import lambdalog
from edgeshield.emulator.functions.bootstrap import LambdaContext
from edgeshield.emulator.functions.runtime import FunctionSpec, Invocation

Handler = Callable[[dict[str, Any], Any], Any]


class Invoker(Protocol):
    @property
    def spec(self) -> FunctionSpec: ...

    async def invoke(self, event: dict[str, Any]) -> Invocation: ...


@dataclass
class InMemoryInvoker:
    """Runs ``handler(event, context)`` (plain or async) in this process.

    Like Lambda, the handler gets its own copy of the event and its result travels as JSON: a
    result that is not JSON is the runtime's ``Runtime.MarshalError``. An exception is an
    execution error with the exception's type and message. ``events`` keeps every event the
    handler was given, in order.
    """

    trigger: Trigger
    handler: Handler
    name: str = "in-memory-function"
    region: str = "us-east-1"
    events: list[dict[str, Any]] = field(default_factory=list)
    _spec: FunctionSpec = field(init=False, repr=False)

    def __post_init__(self) -> None:
        viewer = self.trigger.startswith("viewer-")
        self._spec = FunctionSpec(
            trigger=self.trigger,
            handler=getattr(self.handler, "__name__", "handler"),
            task_root=Path.cwd(),
            name=self.name,
            memory_mb=MEMORY_MB_VIEWER if viewer else 128,
            timeout_s=float(TIMEOUT_SECONDS[self.trigger]),
            region=self.region,
        )

    @property
    def spec(self) -> FunctionSpec:
        return self._spec

    async def invoke(self, event: dict[str, Any]) -> Invocation:
        request_id = str(uuid.uuid4())
        own = copy.deepcopy(event)
        self.events.append(own)
        begin = time.perf_counter()
        try:
            result = self.handler(copy.deepcopy(own), self._context(request_id))
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # as Lambda's Python runtime reports it: type and message
            return self._done("error", request_id, begin, None, type(exc).__name__, str(exc))
        try:
            result = json.loads(json.dumps(result))
        except (TypeError, ValueError, RecursionError) as exc:
            message = f"Unable to marshal response: {exc}"
            return self._done("error", request_id, begin, None, "Runtime.MarshalError", message)
        return self._done("ok", request_id, begin, result)

    def _done(
        self,
        status: Literal["ok", "error"],
        request_id: str,
        begin: float,
        result: Any,
        error_type: str | None = None,
        error_message: str | None = None,
    ) -> Invocation:
        ms = (time.perf_counter() - begin) * 1000
        cold = len(self.events) == 1
        return Invocation(status, request_id, ms, result, error_type, error_message, cold)

    def _context(self, request_id: str) -> LambdaContext:
        spec = self._spec
        meta = spec.context_fields(lambdalog.log_stream_name())
        deadline = int((time.time() + spec.timeout_s) * 1000)
        return LambdaContext(meta, request_id, deadline)


if TYPE_CHECKING:
    from edgeshield.emulator.functions.runtime import FunctionPool

    def _pool_is_an_invoker(pool: FunctionPool) -> Invoker:  # mypy checks the protocol fits
        return pool
