"""The Lambda runtime of the emulator: worker processes that run a function's handler.

Isolation: one OS process per execution environment, not a thread. A Python thread cannot be
stopped, so a handler stuck in ``while True`` or ``time.sleep(60)`` would hold its thread (and
whatever locks it took) forever, and enough of them would exhaust any thread pool; a crash in C
code or ``os._exit`` would take the whole emulator down. A process can be killed at the
deadline and replaced, starts with its own interpreter state (module-level "cold start" code
runs once per worker, exactly like an execution environment), and gets a clean environment
with only Lambda's reserved variables. Each function has a small pool (``max_workers``) of
such processes, so the number of processes is bounded whatever the functions do; a request
waits for a free worker rather than spawning without limit, and a worker that comes free is
handed to the longest-waiting one. Workers take one line per invocation over a pipe and answer
with one (the protocol is described in the stdlib-only ``bootstrap.py``): about 0.3 ms per
round trip with the strict handler on a shared 2-core VM (benchmarks/function_worker.py).

Each worker is started in its own session (Ctrl-C in the terminal does not kill it, so serve
can finish in-flight requests on shutdown) and asks the kernel to kill it if serve dies.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import itertools
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from edgeshield.cloudfront.rules import Trigger
from edgeshield.emulator.functions import lambdalog
from edgeshield.emulator.functions.pipe_json import decode_reply, encode_line
from edgeshield.emulator.logstore import LogStore
from edgeshield.errors import EdgeshieldError
from edgeshield.logrecords import edge_function_log_group

BOOTSTRAP: Final = Path(__file__).with_name("bootstrap.py")
INIT_TIMEOUT_S: Final = 10.0  # Lambda's limit for the init phase
_PIPE_LIMIT: Final = 16 * 1024 * 1024  # longest reply line (results are capped at 6 MB)
# One read takes what a full pipe holds (64 KiB on Linux). Not more: os.read allocates the size
# asked for before it knows how much comes, and while glibc's mmap threshold is at its initial
# 128 KiB, a larger block is an mmap and a munmap per read (15 µs against 1.4 for a 2 KB reply).
_READ_SIZE: Final = 64 * 1024
_NAME_RE: Final = re.compile(r"[^A-Za-z0-9_-]+")


def function_name_for(handler: str) -> str:
    """A Lambda function name (letters, digits, ``-``, ``_``, at most 64) for a handler."""
    name = _NAME_RE.sub("-", handler.replace(":", ".").replace(".", "-")).strip("-")
    return (name or "function")[:64]


# An edge function runs on one of CloudFront's four triggers; the local CSP-report collector
# is an ordinary Lambda behind a function URL.
FunctionTrigger = Trigger | Literal["function-url"]


@dataclass(frozen=True)
class FunctionSpec:
    """One function associated with one trigger."""

    trigger: FunctionTrigger
    handler: str  # module.function or module:function, relative to task_root
    task_root: Path
    name: str  # the function's name in us-east-1; replicas are "us-east-1.<name>"
    memory_mb: int
    timeout_s: float
    region: str  # where the replica runs (from --pop)
    stdlib_only: bool = False  # run with -S: no site-packages (the edgeshield bundle)
    # False for an ordinary regional Lambda (e.g. the CSP-report collector behind its own
    # cache behavior): no "us-east-1." replica prefix, and user environment variables allowed.
    edge: bool = True
    environment: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.edge and self.environment:
            # CloudFront refuses to associate a function that has environment variables (AWS,
            # "Restrictions on Lambda@Edge", "Lambda features":
            # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html).
            raise ValueError("Lambda@Edge functions cannot have environment variables")

    @functools.cached_property  # the fields are frozen: worked out once, not per call
    def replica_name(self) -> str:
        return f"{lambdalog.HOME_REGION}.{self.name}" if self.edge else self.name

    @functools.cached_property
    def log_group(self) -> str:
        return edge_function_log_group(self.name) if self.edge else f"/aws/lambda/{self.name}"

    @functools.cached_property
    def arn(self) -> str:
        region = lambdalog.HOME_REGION if self.edge else self.region
        return lambdalog.function_arn(self.name, region=region)

    def context_fields(self, log_stream: str) -> dict[str, Any]:
        """What the handler's context object reports about this function, as Lambda's."""
        return {
            "function_name": self.replica_name,
            "function_version": lambdalog.VERSION,
            "invoked_function_arn": self.arn,
            "memory_limit_in_mb": self.memory_mb,
            "log_group_name": self.log_group,
            "log_stream_name": log_stream,
        }


@dataclass
class Invocation:
    """What one invocation produced, as CloudFront sees it."""

    status: Literal["ok", "error", "timeout"]
    request_id: str
    duration_ms: float
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    cold: bool = False
    # The result was just decoded from JSON text holding no NaN/Infinity token and nested well
    # within the recursion limit: Lambda's strict re-encoding of it cannot fail, so the caller
    # may skip that check (cloudfront.check_result's ``serialisable``).
    serialisable: bool = False


# Nesting that a result may have for its re-encoding to be known safe; brackets are counted in
# the whole reply line (strings too), so this over-counts and never under-counts. A reply is
# "plain" (``Invocation.serialisable``) when its line is strict JSON (Python's decoder also
# accepts the non-JSON tokens NaN, Infinity and -Infinity, and nothing else it produces, str
# keys, str/int/float/bool/None/list/dict, can fail to encode) nested no deeper than this.
_SAFE_BRACKETS: Final = 400


def _parse_reply(line: bytes) -> tuple[dict[str, Any], bool]:
    """A reply line as the object it holds, and whether it is plain JSON (``_SAFE_BRACKETS``).
    Raises WorkerGone for anything but a JSON object: the function can reach the pipe and
    forge a line."""
    try:
        reply, plain = decode_reply(line, _SAFE_BRACKETS)
    except (ValueError, RecursionError):
        raise WorkerGone("the runtime wrote an unreadable reply") from None
    if not isinstance(reply, dict):
        raise WorkerGone("the runtime wrote an unreadable reply")
    return reply, plain


class InitError(EdgeshieldError):
    """The handler could not be loaded (import error, missing handler, init timeout)."""

    def __init__(self, spec: FunctionSpec, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.spec = spec
        self.error_type = error_type
        self.message = message


def _reserved_env(spec: FunctionSpec, stream: str) -> dict[str, str]:
    """Only what Lambda itself defines (plus, for a regional function, its own variables):
    Lambda@Edge has no user environment variables ("Lambda features", above), and nothing leaks
    from the shell."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return {
        **spec.environment,
        "AWS_LAMBDA_FUNCTION_NAME": spec.replica_name,
        "AWS_LAMBDA_FUNCTION_VERSION": lambdalog.VERSION,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
        "LAMBDA_TASK_ROOT": str(spec.task_root),
        "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
        "_HANDLER": spec.handler,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "PYTHONIOENCODING": "utf-8",
    }


class WorkerGone(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Worker:
    """One execution environment: a bootstrap process with its own log stream."""

    _ids = itertools.count(1)

    def __init__(self, spec: FunctionSpec, scratch: Path) -> None:
        self.spec = spec
        self.stream = lambdalog.log_stream_name()
        self.log_path = scratch / f"worker-{os.getpid()}-{next(self._ids)}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.channel: _Channel | None = None
        self.init_ms: float | None = None
        self.pending_init_ms: float | None = None  # reported on the first REPORT
        self.init_logs = ""
        self.invocations = 0
        self.generation = 0  # the pool's code generation this worker loaded
        self.max_memory_mb = 1

    async def start(self) -> None:
        spec = self.spec
        meta = spec.context_fields(self.stream)
        config = {
            "handler": spec.handler,
            "task_root": str(spec.task_root),
            "log_path": str(self.log_path),
            "meta": meta,
        }
        # -B: no __pycache__ in the task root (read-only at the edge, and not ours to litter).
        flags = ["-I", "-S", "-B"] if spec.stdlib_only else ["-I", "-B"]
        # Our own pipes rather than asyncio's stream pipes: one os.write and one os.read per
        # invocation, without the transport, protocol and stream-reader layers in between.
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        try:
            with self.log_path.open("ab") as log:
                self.proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    *flags,
                    str(BOOTSTRAP),
                    json.dumps(config),
                    stdin=to_worker_r,
                    stdout=from_worker_w,
                    stderr=log,
                    env=_reserved_env(spec, self.stream),
                    cwd=str(spec.task_root),
                    start_new_session=True,
                )
        except BaseException:
            for fd in (to_worker_w, from_worker_r):
                os.close(fd)
            raise
        finally:
            os.close(to_worker_r)  # the worker's ends: only the worker holds them now
            os.close(from_worker_w)
        self.channel = _Channel(to_worker_w, from_worker_r)
        try:
            ready, _ = await self._read(INIT_TIMEOUT_S)
        except TimeoutError:
            await self.kill()
            raise InitError(
                spec, "Runtime.InitTimeout", f"init did not finish in {INIT_TIMEOUT_S:.0f} s"
            ) from None
        except WorkerGone as exc:
            logs = self.leftover_logs()
            await self.kill()
            raise InitError(spec, "Runtime.ExitError", f"{exc.detail}\n{logs}".strip()) from None
        self.init_ms = self.pending_init_ms = float(ready.get("init_ms", 0.0))
        self.init_logs = str(ready.get("logs", ""))
        if not ready.get("ready"):
            error = ready.get("error") or {}
            await self.kill()
            raise InitError(spec, str(error.get("errorType")), str(error.get("errorMessage")))

    async def _read(self, timeout: float) -> tuple[dict[str, Any], bool]:
        """The next reply, and whether it is plain JSON (``_SAFE_BRACKETS``)."""
        assert self.channel is not None
        line = await self.channel.read_line(timeout)
        if line is None:
            raise await self._gone()
        return _parse_reply(line)

    async def _gone(self) -> WorkerGone:
        """Why the reply pipe closed: how the process ended."""
        assert self.proc is not None
        code = await self.proc.wait()
        detail = (
            f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}"
            if code < 0
            else f"exit status {code}"
        )
        return WorkerGone(detail)

    async def call(
        self, message: bytes, timeout: float, message_id: int
    ) -> tuple[dict[str, Any], bool]:
        """Send one invocation and wait for its reply (and whether it is plain JSON). Raises
        TimeoutError or WorkerGone."""
        channel = self.channel
        assert channel is not None
        rest = channel.send(message)
        if rest:  # the pipe was full: the rest as the worker reads
            await channel.write(rest)
        reply, plain = await self._read(timeout)
        if reply.get("id") != message_id:
            # Another process (a fork of the function) answered on the protocol pipe: the
            # worker can no longer be trusted to pair replies with requests.
            raise WorkerGone("a reply for another invocation arrived (did the function fork?)")
        return reply, plain

    @property
    def alive(self) -> bool:
        """False once the process has exited or its reply pipe has closed (killed while idle,
        say): such a worker must not be handed an invocation."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return False
        return self.channel is None or not self.channel.at_eof

    def leftover_logs(self) -> str:
        """What the function printed before the worker was killed or died."""
        try:
            return self.log_path.read_bytes()[: 1024 * 1024].decode("utf-8", "replace")
        except OSError:
            return ""

    async def kill(self) -> None:
        proc = self.proc
        if proc is not None:
            # The whole group, even if the worker itself already exited: what it spawned
            # (start_new_session made it the group leader) must not outlive it.
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker leads its group: it too
            except PermissionError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if proc.returncode is None:
                # Not proc.kill(): it polls (waitpid) first and can reap the process under
                # asyncio's child watcher ("Unknown child process pid ...").
                await proc.wait()
        if self.channel is not None:
            self.channel.close()
        self.discard()

    async def stop(self) -> None:
        """Graceful: close stdin so the bootstrap leaves its loop; kill if it lingers."""
        proc = self.proc
        if proc is not None and proc.returncode is None and self.channel is not None:
            self.channel.close_input()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 1.0)
        await self.kill()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.log_path.unlink()


Recorder = Callable[[FunctionSpec, Invocation], None]


@dataclass
class FunctionPool:
    """The execution environments of one function, at most ``max_workers`` of them."""

    spec: FunctionSpec
    logs: LogStore
    max_workers: int = 4
    on_invocation: Recorder | None = None
    scratch: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    _idle: list[Worker] = field(default_factory=list)  # most recently used last
    _count: int = 0  # workers running or starting, and slots handed to a waiting invocation
    # Invocations waiting for a worker, oldest first. A worker that comes free (or the slot of
    # one that ended) is handed to the first of them directly: no lock to take again, and no
    # wake-up that finds the worker already gone.
    _waiters: collections.deque[asyncio.Future[Worker | None]] = field(
        default_factory=collections.deque
    )
    _closed: bool = False
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _generation: int = 0

    async def start(self) -> None:
        """Start one warm worker; raises InitError if the handler cannot be loaded."""
        worker = Worker(self.spec, self.scratch)
        worker.generation = self._generation
        self._count += 1
        try:
            await worker.start()
        except BaseException:
            self._pass_on(None)
            raise
        self._write_init_logs(worker)
        self._pass_on(worker)

    def _write_init_logs(self, worker: Worker) -> None:
        lines = lambdalog.output_events(worker.init_logs)
        if lines:
            now = _now_ms()
            self.logs.put(
                self.spec.region, self.spec.log_group, worker.stream, [(now, x) for x in lines]
            )

    async def _acquire(self) -> Worker | None:
        """A warm worker, or None: permission to start a new one (a cold start). Workers that
        died while idle are dropped here, so the invocation gets a fresh one instead of a
        Runtime.ExitError it did nothing to cause."""
        dead: list[Worker] = []
        try:
            if self._closed:
                raise RuntimeError("the function runtime is shutting down")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                dead.append(worker)
                self._count -= 1
            if self._count < self.max_workers:
                self._count += 1
                return None
            granted = await self._wait_turn()
            if granted is not None and not granted.alive:
                dead.append(granted)  # its slot is ours: start a new worker in it
                return None
            return granted
        finally:
            for worker in dead:  # its process group and log file
                await self._end(worker)

    async def _wait_turn(self) -> Worker | None:
        """Wait to be handed a worker, or (None) the slot of one that ended."""
        turn: asyncio.Future[Worker | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                # Handed over just as the caller gave up: to the next waiter, or (a reload or
                # shutdown began meanwhile) retired.
                granted = turn.result()
                await self._release(granted, alive=granted is not None)
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(turn)
            raise

    def _pass_on(self, worker: Worker | None) -> None:
        """Give a free worker (or, None, the slot of one that ended) to the invocation that has
        waited longest; with nobody waiting the worker goes idle, the slot is freed."""
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(worker)
                return
        if worker is None:
            self._count -= 1
        else:
            self._idle.append(worker)

    def _reusable(self, worker: Worker | None, alive: bool) -> bool:
        """Whether a worker that finished an invocation may take the next one: alive, running
        the current code, and the pool not shutting down."""
        return (
            worker is not None
            and alive
            and worker.generation == self._generation
            and not self._closed
        )

    async def _release(self, worker: Worker | None, alive: bool) -> None:
        if self._reusable(worker, alive):
            self._pass_on(worker)
            return
        self._pass_on(None)
        if worker is not None:
            # Alive: it finished after shutdown or a reload began, and may leave in peace.
            # Not alive: it failed mid-call; make sure no process is left behind.
            await self._end(worker, graceful=alive)

    async def recycle(self) -> InitError | None:
        """Retire every execution environment (busy ones when they finish) so that the next
        invocations load the code afresh, and warm one new worker. Returns the new code's
        init error, if any: invocations then fail as Lambda's would."""
        self._generation += 1
        idle, self._idle = self._idle, []
        self._count -= len(idle)  # nobody waits while a worker is idle
        await asyncio.gather(*(self._end(w, graceful=True) for w in idle), return_exceptions=True)
        if self._count >= self.max_workers:
            return None  # all busy: the next invocation starts the new code
        try:
            await self.start()
        except InitError as exc:
            return exc
        return None

    async def invoke(self, event: dict[str, Any], timeout_s: float | None = None) -> Invocation:
        timeout = self.spec.timeout_s if timeout_s is None else timeout_s
        request_id = _request_id()
        idle = self._idle
        if idle and idle[-1].alive and not self._closed:
            worker: Worker | None = idle.pop()  # the usual case, without _acquire's round
        else:
            worker = await self._acquire()
        alive = False
        try:
            if worker is None:
                worker = Worker(self.spec, self.scratch)
                worker.generation = self._generation
                try:
                    await worker.start()
                except InitError as exc:
                    worker = None
                    return self._init_failed(request_id, exc)
                self._write_init_logs(worker)
            invocation, alive = await self._run(worker, request_id, event, timeout)
            return invocation
        finally:
            if self._reusable(worker, alive):
                self._pass_on(worker)  # the usual case, without _release's round
            else:
                await self._release(worker, alive)

    def _init_failed(self, request_id: str, exc: InitError) -> Invocation:
        now = _now_ms()
        stream = lambdalog.log_stream_name()
        self.logs.put(
            self.spec.region,
            self.spec.log_group,
            stream,
            [
                (now, lambdalog.error_event(exc.error_type, exc.message, [])),
                (now, lambdalog.start_line(request_id)),
                (now, lambdalog.end_line(request_id)),
                (
                    now,
                    lambdalog.report_line(
                        request_id, 0.0, self.spec.memory_mb, 1, status="error",
                        error_type=exc.error_type,
                    ),
                ),
            ],
        )  # fmt: skip
        # The environment never came up: its stream gets nothing more.
        self.logs.end_stream(self.spec.region, self.spec.log_group, stream)
        invocation = Invocation("error", request_id, 0.0, None, exc.error_type, exc.message)
        self._record(invocation)
        return invocation

    async def _run(
        self, worker: Worker, request_id: str, event: dict[str, Any], timeout: float
    ) -> tuple[Invocation, bool]:
        spec = self.spec
        start_ms = _now_ms()
        deadline_ms = start_ms + int(timeout * 1000)
        message_id = next(self._ids)
        # The protocol's request line (bootstrap.py): three fields, then the event's JSON.
        head = b"%d %d %s " % (message_id, deadline_ms, request_id.encode("ascii"))
        message = head + encode_line(event)
        began = time.perf_counter()
        init_ms, worker.pending_init_ms = worker.pending_init_ms, None  # first call = cold
        events: list[tuple[int, str]] = [(start_ms, lambdalog.start_line(request_id))]
        alive = True
        try:
            reply, plain = await worker.call(message, timeout, message_id)
        except TimeoutError:
            alive = False
            logs = await self._kill(worker)
            now = _now_ms()
            events += [(now, line) for line in lambdalog.output_events(logs)]
            events.append((now, lambdalog.timeout_line(request_id, timeout)))
            duration = timeout * 1000
            events += self._closing(request_id, duration, worker, init_ms, status="timeout")
            invocation = Invocation(
                "timeout", request_id, duration, None, "Sandbox.Timedout",
                f"Task timed out after {timeout:.2f} seconds",
            )  # fmt: skip
        except WorkerGone as exc:
            alive = False
            logs = await self._kill(worker)
            now = _now_ms()
            duration = (time.perf_counter() - began) * 1000
            events += [(now, line) for line in lambdalog.output_events(logs)]
            events += [(now, line) for line in lambdalog.exit_error_lines(request_id, exc.detail)]
            events += self._closing(
                request_id, duration, worker, init_ms, status="error", error="Runtime.ExitError"
            )
            invocation = Invocation(
                "error", request_id, duration, None, "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with error: {exc.detail}",
            )  # fmt: skip
        else:
            invocation = self._replied(reply, request_id, worker, init_ms, events)
            invocation.serialisable = plain
        worker.invocations += 1
        invocation.cold = init_ms is not None
        self.logs.put(spec.region, spec.log_group, worker.stream, events)
        self._record(invocation)
        return invocation, alive

    def _replied(
        self,
        reply: dict[str, Any],
        request_id: str,
        worker: Worker,
        init_ms: float | None,
        events: list[tuple[int, str]],
    ) -> Invocation:
        """The invocation a worker's reply describes; its log lines are added to ``events``."""
        now = _now_ms()
        duration = float(reply.get("duration_ms", 0.0))
        worker.max_memory_mb = max(worker.max_memory_mb, int(reply.get("rss_mb", 1)))
        printed = reply.get("logs")
        if printed:  # only when the function printed something
            events += [(now, line) for line in lambdalog.output_events(str(printed))]
        error = reply.get("error")
        if error:
            events.append(
                (
                    now,
                    lambdalog.error_event(
                        str(error.get("errorType")),
                        str(error.get("errorMessage")),
                        list(error.get("stackTrace") or []),
                    ),
                )
            )
            events += self._closing(
                request_id, duration, worker, init_ms, status="error",
                error=str(error.get("errorType")), now=now,
            )  # fmt: skip
            invocation = Invocation(
                "error", request_id, duration, None, str(error.get("errorType")),
                str(error.get("errorMessage")),
            )  # fmt: skip
        else:
            events += self._closing(request_id, duration, worker, init_ms, now=now)
            invocation = Invocation("ok", request_id, duration, reply.get("result"))
        return invocation

    def _closing(
        self,
        request_id: str,
        duration: float,
        worker: Worker,
        init_ms: float | None,
        status: str | None = None,
        error: str | None = None,
        now: int | None = None,
    ) -> list[tuple[int, str]]:
        if now is None:
            now = _now_ms()
        return [
            (now, lambdalog.end_line(request_id)),
            (
                now,
                lambdalog.report_line(
                    request_id, duration, self.spec.memory_mb, worker.max_memory_mb, init_ms,
                    status, error,
                ),
            ),
        ]  # fmt: skip

    async def _end(self, worker: Worker, graceful: bool = False) -> None:
        """Stop (or kill) a worker for good and close its log stream: a replaced execution
        environment keeps no descriptor open in the log store."""
        await (worker.stop() if graceful else worker.kill())
        self.logs.end_stream(self.spec.region, self.spec.log_group, worker.stream)

    async def _kill(self, worker: Worker) -> str:
        logs = worker.leftover_logs()
        await worker.kill()  # the process group too, even if the worker already exited
        return logs

    def _record(self, invocation: Invocation) -> None:
        if self.on_invocation is not None:
            self.on_invocation(self.spec, invocation)

    @property
    def size(self) -> int:
        return self._count

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_exception(RuntimeError("the function runtime is shutting down"))
        await asyncio.gather(*(self._end(w, graceful=True) for w in idle), return_exceptions=True)


class _Channel:
    """The parent's ends of a worker's two pipes: messages out, reply lines in.

    Replies are collected by a reader callback on the event loop; ``read_line`` waits on a
    future instead of a task. Its deadline is kept by one timer per channel, re-armed when it
    fires early (the read it was set for has long finished) or when a read must end sooner,
    rather than a timer made and cancelled per read. Everything runs on the loop's thread."""

    def __init__(self, out_fd: int, in_fd: int) -> None:
        os.set_blocking(out_fd, False)
        os.set_blocking(in_fd, False)
        self._out: int | None = out_fd
        self._in: int | None = in_fd
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._deadline = 0.0  # loop time by which the read in flight must finish
        self._timer: asyncio.TimerHandle | None = None
        self.at_eof = False
        self._too_large = False
        # A reply that arrived whole in one read (the usual case), kept as it was read rather
        # than copied through the buffer; anything after it goes to the buffer.
        self._line: bytes | None = None
        self._loop.add_reader(in_fd, self._readable)

    def _readable(self) -> None:
        assert self._in is not None
        try:
            data = os.read(self._in, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            if self._line is None and not self._buffer and data.find(b"\n") == len(data) - 1:
                self._line = data  # one whole line and nothing more: the usual reply
            else:
                self._buffer += data
                if len(self._buffer) > _PIPE_LIMIT and b"\n" not in self._buffer:
                    self._too_large = True
                    self._stop_reading()
                elif b"\n" not in data:
                    return  # a reply still arriving
        else:
            self.at_eof = True
            self._stop_reading()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _stop_reading(self) -> None:
        if self._in is not None:
            self._loop.remove_reader(self._in)

    async def read_line(self, timeout: float) -> bytes | None:
        """The next reply line; None at EOF. Raises TimeoutError, or WorkerGone when the line
        exceeds the pipe limit (results are capped at 6 MB)."""
        loop = self._loop
        deadline = loop.time() + timeout
        while True:
            line = self._line
            if line is not None:
                self._line = None
                return line
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
            if self._too_large:
                raise WorkerGone("response too large")
            if self.at_eof:
                return None
            waiter = self._waiter = loop.create_future()
            self._deadline = deadline
            timer = self._timer
            if timer is None or timer.when() > deadline:  # none yet, or set for a later one
                if timer is not None:
                    timer.cancel()
                self._timer = loop.call_at(deadline, self._check_deadline)
            try:
                await waiter
            finally:
                self._waiter = None

    def _check_deadline(self) -> None:
        """The channel's timer: fail the read in flight if its deadline has passed, else wait
        on until it does; with no read in flight, the next read arms a new timer."""
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._loop.time() >= self._deadline:
            waiter.set_exception(TimeoutError())
        else:
            self._timer = self._loop.call_at(self._deadline, self._check_deadline)

    def send(self, message: bytes) -> bytes | memoryview:
        """Write what the pipe takes of ``message`` now, without waiting; what is left (empty
        in the usual case: an event is far smaller than the pipe) goes to ``write``, which
        also raises WorkerGone if the worker's end is closed."""
        if self._out is None:
            return message
        try:
            written = os.write(self._out, message)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            return message
        return memoryview(message)[written:] if written < len(message) else b""

    async def write(self, message: bytes | memoryview) -> None:
        """Write all of ``message``; raises WorkerGone when the worker's end is closed."""
        view = memoryview(message)
        while view:
            if self._out is None:
                raise WorkerGone("the runtime is not running")
            try:
                written = os.write(self._out, view)
            except BlockingIOError:
                written = 0
            except (BrokenPipeError, ConnectionResetError):
                raise WorkerGone("the runtime is not running") from None
            view = view[written:]
            if view:  # the pipe is full: wait until the worker reads
                ready = self._loop.create_future()
                self._loop.add_writer(self._out, _wake, ready)
                try:
                    await ready
                finally:
                    self._loop.remove_writer(self._out)

    def close_input(self) -> None:
        """Close the worker's stdin: the bootstrap leaves its loop."""
        if self._out is not None:
            os.close(self._out)
            self._out = None

    def close(self) -> None:
        self.close_input()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._in is not None:
            self._stop_reading()
            os.close(self._in)
            self._in = None
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self.at_eof = True
            waiter.set_result(None)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _now_ms() -> int:
    return int(time.time() * 1000)


# A version 4 UUID's fixed bits: version 4 (0100) in bits 76-79, variant 10 in bits 62-63.
_UUID_KEEP: Final = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_SET: Final = (0x4 << 76) | (0x2 << 62)


def _request_id() -> str:
    """A random (version 4) UUID as text, as Lambda's request ids are: one per invocation, so
    without building a ``uuid.UUID`` or a system call for randomness (an id that is unique is
    all a log needs; it guards nothing)."""
    h = f"{random.getrandbits(128) & _UUID_KEEP | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
