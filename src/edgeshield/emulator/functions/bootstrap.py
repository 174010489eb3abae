"""Worker bootstrap: runs one Lambda function in its own process, one invocation at a time.

Started by ``edgeshield.emulator.functions.runtime`` as ``python -I [-S] bootstrap.py CONFIG_JSON`` with
an environment that holds only Lambda's reserved variables. Standard library only, and it
never imports edgeshield: the handler must come from the task root (the staged bundle or the
user's directory), as Lambda imports it from the unzipped package.

Protocol, one line per message. The parent writes an invocation on stdin as
``<id> <deadline_ms> <request_id> <event JSON>``; the worker answers on its original stdout with
one JSON object (``id``, ``duration_ms``, ``rss_mb``, and ``result``, ``error`` or ``logs`` when
there are any). Before importing user code the worker points file descriptors 1 and 2 at the
per-worker log file the parent opened, so everything the function prints (also from C code or
child processes) is captured; after each invocation the worker hands the captured text back
(only when there is any) and empties the file. If the worker is killed (timeout) or dies, the
parent reads what is left in the file itself.

Per invocation the worker does only what Lambda's semantics need: one ``fstat`` to see whether
anything was printed, one ``getrusage`` for the REPORT line's memory (and a read of
``/proc/self/statm`` only when that memory may have grown), one ``waitpid`` to reap
what the function left behind (a SIGCHLD handler only while children it started still run).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

# Lambda refuses to return more than this (6 MB minus framing), as Function.ResponseSizeTooLarge.
MAX_RESPONSE_BYTES = 6291556
MAX_CAPTURE_BYTES = 1024 * 1024
# json.loads without its per-call checks (encoding detection, surrounding whitespace): the
# parent writes each event as one line of compact UTF-8 JSON, starting at its first character.
# The scanner is the one json.loads ends in (it empties its key memo after every call).
_scan_event: Callable[[str, int], tuple[Any, int]]
_scan_event = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__


def _result_encoders() -> tuple[Callable[[Any], str], Callable[[Any], str]]:
    """How ``json.dumps(result, ensure_ascii=False)`` (Lambda's runtime's encoding) works out,
    built once rather than per call: a fast encoder that skips the circular-reference check,
    and one with it. A cycle sends the fast one round and round until RecursionError, so only
    then does the checking one need to run (from scratch, with fresh markers: after an error
    its markers would keep the containers it was inside, and call them circular next time).
    Both come from the same C encoder ``JSONEncoder.encode`` builds on every call."""
    base = json.JSONEncoder(ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the _json accelerator
        return base.encode, base.encode

    def build(markers: dict[int, Any] | None) -> Callable[[Any, int], Any]:
        return make(  # type: ignore[no-any-return]  # getattr: Any
            markers, base.default, json.encoder.encode_basestring, base.indent,
            base.key_separator, base.item_separator, base.sort_keys, base.skipkeys,
            base.allow_nan,
        )  # fmt: skip

    probe = {"k": [1.5, None, True, 10**20, "\u00e9\n"], "": {}}
    try:
        fast = build(None)
        if "".join(fast(probe, 0)) != base.encode(probe):
            raise TypeError("not the encoder JSONEncoder.encode builds")
    except TypeError:  # another signature in another Python: the encoder as it is
        return base.encode, base.encode

    def checked(result: Any) -> str:
        return "".join(build({})(result, 0))

    def unchecked(result: Any) -> str:
        return "".join(fast(result, 0))

    return unchecked, checked


_encode_unchecked, _encode_checked = _result_encoders()


def _encode_result(result: Any) -> str:
    """``json.dumps(result, ensure_ascii=False)``: the same text, the same exceptions."""
    try:
        return _encode_unchecked(result)
    except RecursionError:  # a cycle (ValueError from the check) or nesting that deep
        return _encode_checked(result)


class LambdaContext:
    """The context object a Python Lambda handler receives (same attribute names)."""

    def __init__(self, meta: dict[str, Any], request_id: str, deadline_ms: int) -> None:
        self.function_name: str = meta["function_name"]
        self.function_version: str = meta["function_version"]
        self.invoked_function_arn: str = meta["invoked_function_arn"]
        # Lambda's Python runtime reads this from AWS_LAMBDA_FUNCTION_MEMORY_SIZE: a string.
        self.memory_limit_in_mb: str = str(meta["memory_limit_in_mb"])
        self.aws_request_id = request_id
        self.log_group_name: str = meta["log_group_name"]
        self.log_stream_name: str = meta["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _install_logging() -> _RequestIdFilter:
    """Lambda's root-logger format: level, UTC time, request id, message, tab-separated."""
    handler = logging.StreamHandler(sys.stdout)
    id_filter = _RequestIdFilter()
    handler.addFilter(id_filter)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    return id_filter


def _die_with_parent() -> None:
    """Best effort (Linux): the kernel kills this worker if the emulator dies, so a worker
    stuck in a handler is never orphaned."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(0)
    except Exception:
        pass


def _error(error_type: str, message: str, trace: list[str] | None = None) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message, "stackTrace": trace or []}


def _load_handler(spec: str, task_root: str) -> tuple[Any, dict[str, Any] | None]:
    sys.path.insert(0, task_root)
    module_name, sep, attr = spec.rpartition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        return None, _error(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
        )
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        return None, _error(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            traceback.format_exception_only(type(exc), exc),
        )
    except ImportError as exc:
        return None, _error(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        )
    except Exception as exc:
        return None, _error(
            type(exc).__name__,
            str(exc),
            traceback.format_exception(type(exc), exc, exc.__traceback__)[1:],
        )
    handler = getattr(module, attr, None)
    if handler is None:
        return None, _error(
            "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'"
        )
    return handler, None


def _size(fd: int) -> int:
    """The size of the file ``fd`` points at. ``lseek`` to the end rather than ``fstat``,
    which builds a whole stat result: moving the offset changes nothing for writers, as the
    parent opened the file O_APPEND (every write goes to the end, wherever the offset is).
    Should the function have pointed ``fd`` at a pipe or a terminal, ``fstat`` answers."""
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    except OSError:
        return os.fstat(fd).st_size


class _Capture:
    """Reads back and empties the log file fds 1 and 2 point at."""

    def __init__(self, path: str) -> None:
        self._reader = open(path, "rb")  # noqa: SIM115, PTH123  (kept open; no pathlib import)

    def take(self) -> str:
        # What print() left in the streams' buffers; try rather than contextlib.suppress, which
        # costs a context manager per stream per call. A stream the function closed or replaced
        # with something odd has nothing of ours to flush.
        for stream in (sys.stdout, sys.stderr):
            try:  # noqa: SIM105
                stream.flush()
            except Exception:
                pass
        if _size(2) == 0:
            return ""  # the common case: nothing printed, one syscall
        self._reader.seek(0)
        data = self._reader.read(MAX_CAPTURE_BYTES + 1)
        os.ftruncate(2, 0)  # fds 1 and 2 share the file, opened O_APPEND by the parent
        text = data[:MAX_CAPTURE_BYTES].decode("utf-8", "replace")
        if len(data) > MAX_CAPTURE_BYTES:
            text += "\n[edgeshield: log output of this invocation truncated at 1 MB]\n"
        return text


def _children_left() -> bool:
    """Collect the exit status of children the function forked and left behind (zombies
    otherwise, one per call, until the worker ends); whether any still run. Only between
    invocations, and only those already gone: a child the function waits for is never taken
    from it mid-call."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no children at all: the common case, one syscall
            return False
        if pid == 0:  # children remain, none exited
            return True


def _on_sigchld(_signum: int, _frame: Any) -> None:
    _children_left()


def _next_request(requests: IO[bytes]) -> bytes:
    """The next invocation line (empty when the emulator closed the pipe). While idle, children
    the function left running are reaped as they exit (SIGCHLD); during an invocation the
    function's own handler (or none) is in place, so its waits are never disturbed."""
    if not _children_left():
        return requests.readline()
    previous = signal.signal(signal.SIGCHLD, _on_sigchld)
    try:
        _children_left()  # any that exited before the handler was in place
        return requests.readline()
    finally:
        if previous is not None:  # None: a handler set outside Python, left alone
            signal.signal(signal.SIGCHLD, previous)


def _call(handler: Any, event: Any, context: LambdaContext) -> tuple[bytes | None, Any]:
    """Run the handler: its result as JSON, or the error Lambda reports instead."""
    try:
        result = handler(event, context)
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)[1:]
        return None, _error(type(exc).__name__, str(exc), traceback.format_list(frames))
    try:
        payload = _encode_result(result).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        return None, _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
    if len(payload) > MAX_RESPONSE_BYTES:
        return None, _error(
            "Function.ResponseSizeTooLarge",
            "Response payload size exceeded maximum allowed payload size "
            f"({MAX_RESPONSE_BYTES} bytes).",
        )
    return payload, None


class _PeakMemory:
    """The runtime's own peak resident memory, REPORT's "Max Memory Used".

    ``getrusage``'s peak carries over the peak of the process that started the worker (exec
    keeps the old address space's high-water mark: the emulator's 80-100 MB), so it speaks for
    the worker only once the worker has grown past that. Until then the peak is the largest
    resident size seen after an invocation (``/proc/self/statm``, read with one ``pread``).

    That read is skipped when it cannot tell anything new: resident memory grows only by
    pages being faulted in (by the function's threads touching memory, or by the kernel on
    their behalf, as when ``read`` fills a fresh buffer), and ``getrusage``, made anyway,
    counts those faults. A warm function that allocates nothing new faults nothing, so most
    invocations cost one system call here, not two. Background work of the kernel's own
    (khugepaged filling a huge page) can add resident pages without a fault of ours: a read
    at least every ``REFRESH_S`` catches that as the per-invocation read did, at the next
    invocation."""

    REFRESH_S = 1.0

    def __init__(self) -> None:
        self._inherited = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._seen = 0
        self._faults = -1  # the fault count when statm was last read
        self._read_at = 0.0
        try:
            self._statm: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:  # no /proc (macOS): getrusage alone
            self._statm = None

    def mb(self, now: float) -> int:
        """The figure for the invocation that just ended (``now``: ``time.perf_counter()``)."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        peak_kib = usage.ru_maxrss
        if peak_kib > self._inherited or self._statm is None:
            return max(1, peak_kib // 1024)
        faults = usage.ru_minflt + usage.ru_majflt
        if faults != self._faults or now - self._read_at >= self.REFRESH_S:
            # Faults after getrusage and before the read are in the figure read, and counted
            # again next time: a spare read, never a missed one.
            self._faults, self._read_at = faults, now
            try:
                resident = int(os.pread(self._statm, 64, 0).split()[1]) * self._page
            except (OSError, ValueError, IndexError):  # the function closed our descriptor
                self._statm = None
                return max(1, peak_kib // 1024)
            self._seen = max(self._seen, resident)
        return max(1, self._seen >> 20)


def _reply(
    message_id: bytes,
    duration_ms: float,
    rss_mb: int,
    payload: bytes | None,
    error: Any,
    logs: str,
) -> bytes:
    """The reply line, written out rather than encoded from a dict: only an error and printed
    text (both rare) go through the JSON encoder, and the result is already JSON."""
    head = b'{"id": %s, "duration_ms": %.3f, "rss_mb": %d' % (message_id, duration_ms, rss_mb)
    if error is not None:
        head += b', "error": ' + json.dumps(error).encode("ascii")
    if logs:
        head += b', "logs": ' + json.dumps(logs).encode("ascii")
    if payload is None:
        return head + b"}\n"
    return b"".join((head, b', "result": ', payload, b"}\n"))  # the result copied once


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:  # a signal handler of the function's may interrupt a long write part-way
        view = view[os.write(fd, view) :]


def _serve(
    requests: IO[bytes], proto: int, handler: Any, init_error: Any, meta: dict[str, Any],
    capture: _Capture, id_filter: _RequestIdFilter,
) -> None:  # fmt: skip
    runtime_pid = os.getpid()
    memory = _PeakMemory()
    while line := _next_request(requests):
        message_id, deadline_ms, raw_id, event_json = line.split(b" ", 3)
        request_id = id_filter.request_id = raw_id.decode("ascii")
        context = LambdaContext(meta, request_id, int(deadline_ms))
        event, _end = _scan_event(event_json.decode("utf-8"), 0)
        begin = time.perf_counter()
        if handler is None:
            payload, error = None, init_error
        else:
            payload, error = _call(handler, event, context)
        if os.getpid() != runtime_pid:
            # A fork of the function came back here: only the runtime may answer.
            os._exit(0)
        end = time.perf_counter()
        duration_ms = (end - begin) * 1000
        reply = _reply(message_id, duration_ms, memory.mb(end), payload, error, capture.take())
        _write_all(proto, reply)


def main() -> None:
    config = json.loads(sys.argv[1])
    proto = os.dup(1)
    requests = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    # The function gets an empty stdin, so it can never read (and eat) the protocol.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _die_with_parent()
    capture = _Capture(config["log_path"])
    id_filter = _install_logging()
    started = time.perf_counter()
    handler, init_error = _load_handler(config["handler"], config["task_root"])
    init_ms = (time.perf_counter() - started) * 1000
    ready = {"ready": init_error is None, "init_ms": init_ms, "error": init_error,
             "logs": capture.take()}  # fmt: skip
    _write_all(proto, json.dumps(ready).encode("ascii") + b"\n")
    _serve(requests, proto, handler, init_error, config["meta"], capture, id_filter)


if __name__ == "__main__":
    main()
