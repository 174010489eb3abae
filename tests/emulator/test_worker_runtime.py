"""The worker runtime through ``FunctionPool`` directly (real worker processes, no server):
what the function prints by any route, children it forks or runs, its own signal handling,
Lambda's limits on results, and the memory figure of REPORT lines."""

from __future__ import annotations

import asyncio
import json
import math
import resource
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

from edgeshield.cloudfront import build_event
from edgeshield.emulator.functions.runtime import FunctionPool, FunctionSpec, Invocation
from edgeshield.emulator.logstore import LogStore, read_events
from tests.emulator.helpers import children, wait_until

FUNCTION = """
import ctypes, os, signal, subprocess, sys, threading

SEEN = []
SHARED = {}
GROWN = threading.Event()


def handler(event, context):
    action = event["action"]
    if action == "print-all-ways":
        print("from print", end="")  # no newline: still pending in sys.stdout's buffer
        sys.stderr.write("from stderr, unflushed")
        os.write(1, b"from fd 1\\n")
        os.write(2, b"from fd 2\\n")
        ctypes.CDLL(None).write(1, b"from C\\n", 7)
        subprocess.run(["sh", "-c", "echo from a child; echo child err >&2"], check=True)
    elif action == "exit-status":
        return subprocess.run(["sh", "-c", "exit 7"]).returncode
    elif action == "leave-sleeper":
        if os.fork() == 0:
            import time
            time.sleep(0.5)
            os._exit(0)
    elif action == "own-sigchld":
        signal.signal(signal.SIGCHLD, lambda *_: SEEN.append(1))
    elif action == "has-own-sigchld":
        subprocess.run(["true"])
        return [signal.getsignal(signal.SIGCHLD) not in (signal.SIG_DFL, None), len(SEEN) > 0]
    elif action == "pid":
        return os.getpid()
    elif action == "forge":
        import fcntl
        for name in os.listdir("/proc/self/fd"):  # the protocol pipe: the one write-only pipe
            fd = int(name)
            try:
                flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            except OSError:
                continue
            if flags & os.O_ACCMODE == os.O_WRONLY and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                os.write(fd, event["line"].encode())
                while True:
                    pass
    elif action == "headers":
        headers = event["Records"][0]["cf"]["request"]["headers"]
        return {name: ascii(entries[0]["value"]) for name, entries in headers.items()}
    elif action == "nap":
        import time
        time.sleep(0.05)
        return os.getpid()
    elif action == "hang":
        while True:
            pass
    elif action == "big":
        return "x" * 6_300_000
    elif action == "set":
        return {1, 2}
    elif action == "nan":
        return {"v": float("nan")}
    elif action == "cycle":
        looped = {"headers": []}
        looped["headers"].append(looped)
        return looped
    elif action == "deep":
        deep = []
        for _ in range(100_000):
            deep = [deep]
        return deep
    elif action == "shared":  # one dict, unencodable deep inside the first time only
        if not SHARED:
            SHARED.update(outer={"inner": {1, 2}})
            return SHARED
        SHARED["outer"]["inner"] = 3
        return SHARED
    elif action == "raise":
        raise KeyError("missing thing")
    elif action == "allocate":
        SEEN.append(bytearray(80 * 1024 * 1024))
    elif action == "allocate-later":  # after the invocation has ended, from a thread
        def grow():
            import time
            time.sleep(0.1)
            SEEN.append(bytearray(20 * 1024 * 1024))
            GROWN.set()
        threading.Thread(target=grow).start()
    elif action == "wait-grown":
        GROWN.wait(5)
    elif action == "flood":
        sys.stdout.write("y" * (2 * 1024 * 1024))
    elif action == "context":
        return [context.aws_request_id, context.function_name, context.memory_limit_in_mb,
                0 < context.get_remaining_time_in_millis() <= 5000]
    return event.get("echo")
"""


def _pool(
    tmp_path: Path, timeout_s: float = 5.0, workers: int = 1
) -> tuple[FunctionPool, LogStore]:
    (tmp_path / "fn.py").write_text(textwrap.dedent(FUNCTION))
    spec = FunctionSpec(
        "origin-response", "fn.handler", tmp_path, "fn", 256, timeout_s, "us-east-1"
    )
    store = LogStore(tmp_path / "logs")
    return FunctionPool(spec, store, max_workers=workers, scratch=tmp_path), store


def _run(tmp_path: Path, *events: dict[str, Any]) -> tuple[list[Invocation], list[str]]:
    """Invoke the function once per event, in order, on one worker; the invocations and
    every message of the function's log group."""
    pool, store = _pool(tmp_path)

    async def scenario() -> list[Invocation]:
        try:
            return [await pool.invoke(event) for event in events]
        finally:
            await pool.close()

    invocations = asyncio.run(scenario())
    store.close()
    messages = [e.message for e in read_events(tmp_path / "logs")]
    return invocations, messages


def _between(messages: list[str], request_id: str) -> list[str]:
    start = messages.index(f"START RequestId: {request_id} Version: 1")
    end = messages.index(f"END RequestId: {request_id}")
    return messages[start + 1 : end]


def test_output_by_every_route_lands_in_its_invocation(tmp_path: Path) -> None:
    (first, second), messages = _run(
        tmp_path, {"action": "print-all-ways"}, {"action": "echo", "echo": "quiet"}
    )
    assert first.status == "ok" and second.result == "quiet"
    lines = _between(messages, first.request_id)
    for text in ("from print", "from stderr, unflushed", "from fd 1", "from fd 2", "from C",
                 "from a child", "child err"):  # fmt: skip
        assert any(text in line for line in lines), (text, lines)
    assert _between(messages, second.request_id) == []  # the file was emptied


def test_children_keep_their_exit_status_and_leftovers_are_reaped(tmp_path: Path) -> None:
    pool, store = _pool(tmp_path)

    async def scenario() -> tuple[list[Any], int]:
        try:
            results = [(await pool.invoke({"action": "exit-status"})).result]
            pid = (await pool.invoke({"action": "pid"})).result
            await pool.invoke({"action": "leave-sleeper"})  # a child outlives the call
            results.append((await pool.invoke({"action": "exit-status"})).result)
            await pool.invoke({"action": "leave-sleeper"})
            # Idle now; the child exits after 0.5 s and must not stay a zombie.
            await asyncio.sleep(0.1)
            states = [state for _pid, state in children(pid)]
            assert states and "Z" not in states, states
            reaped = await asyncio.to_thread(wait_until, lambda: children(pid) == [], timeout=3)
            assert reaped, children(pid)
            results.append((await pool.invoke({"action": "exit-status"})).result)
            return results, pid
        finally:
            await pool.close()

    results, _pid = asyncio.run(scenario())
    store.close()
    assert results == [7, 7, 7]


def test_a_sigchld_handler_the_function_sets_stays_in_place(tmp_path: Path) -> None:
    invocations, _ = _run(
        tmp_path,
        {"action": "own-sigchld"},
        {"action": "leave-sleeper"},
        {"action": "has-own-sigchld"},
    )
    assert invocations[-1].result == [True, True]


def test_results_lambda_refuses(tmp_path: Path) -> None:
    (big, unset, nan, raised), messages = _run(
        tmp_path, {"action": "big"}, {"action": "set"}, {"action": "nan"}, {"action": "raise"}
    )
    assert (big.status, big.error_type) == ("error", "Function.ResponseSizeTooLarge")
    assert (unset.status, unset.error_type) == ("error", "Runtime.MarshalError")
    assert unset.error_message is not None
    assert unset.error_message.startswith("Unable to marshal response: Object of type set")
    # Python's encoder writes NaN: the result arrives, but not as known-strict JSON.
    assert nan.status == "ok" and math.isnan(nan.result["v"]) and not nan.serialisable
    assert (raised.status, raised.error_type) == ("error", "KeyError")
    assert raised.error_message == "'missing thing'"
    error = next(m for m in _between(messages, raised.request_id) if m.startswith("[ERROR]"))
    assert error.startswith("[ERROR] KeyError: 'missing thing'\nTraceback")
    assert 'raise KeyError("missing thing")' in error


def test_results_are_judged_as_json_dumps_judges_them(tmp_path: Path) -> None:
    """A cycle and nesting too deep are MarshalErrors with json.dumps's own messages, and an
    object that failed to encode once (part-way down) encodes once it is fixed: no container
    of the failed attempt is remembered as 'circular'."""
    (cycle, deep, bad, fixed, again), _ = _run(
        tmp_path, *({"action": a} for a in ("cycle", "deep", "shared", "shared", "shared"))
    )
    assert (cycle.status, cycle.error_type) == ("error", "Runtime.MarshalError")
    assert cycle.error_message == "Unable to marshal response: Circular reference detected"
    assert (deep.status, deep.error_type) == ("error", "Runtime.MarshalError")
    assert deep.error_message is not None and "maximum recursion depth" in deep.error_message
    assert (bad.status, bad.error_type) == ("error", "Runtime.MarshalError")
    assert (
        bad.error_message
        == "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert fixed.status == again.status == "ok"
    assert fixed.result == again.result == {"outer": {"inner": 3}}


def test_the_result_encoder_is_json_dumps() -> None:
    """bootstrap's encoder, built once, against json.dumps(ensure_ascii=False) built per call:
    the same text or the same exception, message and all."""
    from edgeshield.emulator.functions import bootstrap

    class Number(int):
        def __repr__(self) -> str:
            return "not used by JSON"

    looped: list[Any] = []
    looped.append([looped])
    nested: Any = {}
    for _ in range(5000):
        nested = {"n": nested}
    values: list[Any] = [
        {"status": "200", "headers": {"x": [{"key": "X", "value": "caf\u00e9 \u2028"}]}},
        "\udcff lone",
        10**30,
        -0.0,
        1e300 * 10,
        float("nan"),
        True,
        None,
        [],
        {},
        {1: "int key", 2.5: "float key", None: "none", False: "bool"},
        Number(7),
        (1, 2),
        {"k": {1, 2}},
        {("t",): 1},
        looped,
        nested,
        {"a": object()},
        b"bytes",
        10**5000,
    ]
    for value in values:
        try:
            expected: Any = json.dumps(value, ensure_ascii=False)
        except Exception as exc:  # whatever it raises, ours must raise too
            expected = (type(exc), str(exc))
        try:
            got: Any = bootstrap._encode_result(value)
        except Exception as exc:
            got = (type(exc), str(exc))
        assert got == expected, value if not isinstance(value, dict) else list(value)[:1]


def test_report_lines_carry_the_peak_memory(tmp_path: Path) -> None:
    (small, _big, after), messages = _run(
        tmp_path, {"action": "echo"}, {"action": "allocate"}, {"action": "echo"}
    )

    def used(invocation: Invocation) -> int:
        report = next(
            m for m in messages if m.startswith(f"REPORT RequestId: {invocation.request_id}")
        )
        return int(report.split("Max Memory Used: ")[1].split(" MB")[0])

    # The peak so far, as Lambda reports it: the runtime's own (an interpreter and this small
    # module), not the peak of the process that started the worker, which exec carries over
    # into getrusage's figure (this test's process, or the emulator's, is far larger).
    assert 1 <= used(small) < 30
    assert used(after) >= 80 + used(small) - 5


def test_memory_the_function_takes_between_invocations_is_reported_next(
    tmp_path: Path,
) -> None:
    """The worker reads its resident size only when page faults say it may have grown: what
    a thread of the function's allocates after its invocation ended shows in the next REPORT
    (sooner than the once-a-second read, which would catch it anyway)."""
    pool, store = _pool(tmp_path)

    async def scenario() -> list[Invocation]:
        try:
            done = [await pool.invoke({"action": "echo"})]
            done.append(await pool.invoke({"action": "allocate-later"}))
            done.append(await pool.invoke({"action": "wait-grown"}))
            return done
        finally:
            await pool.close()

    before, _, after = asyncio.run(scenario())
    store.close()
    messages = [e.message for e in read_events(tmp_path / "logs")]

    def used(invocation: Invocation) -> int:
        report = next(
            m for m in messages if m.startswith(f"REPORT RequestId: {invocation.request_id}")
        )
        return int(report.split("Max Memory Used: ")[1].split(" MB")[0])

    # Below the peak the worker inherited from this process (exec keeps it in getrusage's
    # figure), so the figure is the resident size the worker read, not getrusage's.
    inherited_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    assert used(before) + 25 < inherited_mb, (used(before), inherited_mb)
    assert used(after) >= used(before) + 18


def test_a_flood_of_output_is_cut_at_one_megabyte(tmp_path: Path) -> None:
    (flood, quiet), messages = _run(tmp_path, {"action": "flood"}, {"action": "echo"})
    lines = _between(messages, flood.request_id)
    assert sum(len(line) for line in lines) < 1100 * 1024
    assert "[edgeshield: log output of this invocation truncated at 1 MB]" in lines
    assert quiet.status == "ok" and _between(messages, quiet.request_id) == []


def test_context_and_a_timeout_then_a_fresh_worker(tmp_path: Path) -> None:
    pool, store = _pool(tmp_path, timeout_s=1.0)

    async def scenario() -> list[Invocation]:
        try:
            context = await pool.invoke({"action": "context"})
            began = time.monotonic()
            hung = await pool.invoke({"action": "hang"})
            # At the deadline, not at the start-up's 10 s one still pending on the channel.
            assert time.monotonic() - began < 3.0
            return [context, hung, await pool.invoke({"action": "context"})]
        finally:
            await pool.close()

    context, hung, fresh = asyncio.run(scenario())
    store.close()
    assert context.result == [context.request_id, "us-east-1.fn", "256", True]
    assert (hung.status, hung.error_type) == ("timeout", "Sandbox.Timedout")
    assert fresh.status == "ok" and fresh.cold and fresh.result[0] == fresh.request_id


def test_more_invocations_than_workers_wait_their_turn(tmp_path: Path) -> None:
    pool, store = _pool(tmp_path, workers=2)

    async def scenario() -> tuple[list[Invocation], int, list[BaseException | Invocation]]:
        try:
            done = await asyncio.gather(*(pool.invoke({"action": "nap"}) for _ in range(12)))
            most = pool.size
            # Waiting invocations that give up leave neither a worker nor a slot behind.
            tasks = [asyncio.create_task(pool.invoke({"action": "nap"})) for _ in range(6)]
            await asyncio.sleep(0.01)
            for task in tasks[2:5]:
                task.cancel()
            settled = await asyncio.gather(*tasks, return_exceptions=True)
            done += await asyncio.gather(*(pool.invoke({"action": "nap"}) for _ in range(4)))
            # Shutting down fails those still waiting, at once.
            waiting = [asyncio.create_task(pool.invoke({"action": "nap"})) for _ in range(5)]
            await asyncio.sleep(0.01)
        finally:
            await pool.close()
        settled += await asyncio.gather(*waiting, return_exceptions=True)
        return done, most, settled

    done, most, settled = asyncio.run(scenario())
    store.close()
    assert all(i.status == "ok" for i in done)
    ids = [uuid.UUID(i.request_id) for i in done]  # Lambda's request ids: random UUIDs
    assert len(set(ids)) == len(ids) and {(u.version, u.variant) for u in ids} == {
        (4, uuid.RFC_4122)
    }
    assert all(str(u) == i.request_id for u, i in zip(ids, done, strict=True))
    assert len({i.result for i in done}) == 2 and most == 2  # two processes did all the work
    kinds = [type(x).__name__ for x in settled]
    assert kinds[:6] == ["Invocation"] * 2 + ["CancelledError"] * 3 + ["Invocation"]
    assert "RuntimeError" in kinds[6:]


def test_a_worker_handed_to_an_invocation_that_gave_up_is_not_lost(tmp_path: Path) -> None:
    """The hand-over and the cancellation land in the same turn of the loop: the worker must
    go on to the next invocation (here: back to idle), not vanish with the cancelled one."""
    pool, store = _pool(tmp_path)

    async def scenario() -> tuple[list[Any], Invocation]:
        try:
            await pool.start()
            worker = await pool._acquire()  # the only worker, busy
            assert worker is not None
            waiting = asyncio.create_task(pool.invoke({"action": "pid"}))
            await asyncio.sleep(0.01)
            await pool._release(worker, alive=True)  # handed to the waiting invocation...
            waiting.cancel()  # ...which gives up before it runs again
            outcome = await asyncio.gather(waiting, return_exceptions=True)
            state = [pool.size, pool._idle == [worker], *outcome]
            assert worker.proc is not None
            # A lost worker would leave this waiting forever for a slot.
            after = await asyncio.wait_for(pool.invoke({"action": "pid"}), 10)
            return [*state, worker.proc.pid], after
        finally:
            await pool.close()

    state, after = asyncio.run(scenario())
    store.close()
    assert state[:2] == [1, True] and isinstance(state[2], asyncio.CancelledError)
    assert after.status == "ok" and after.result == state[3]  # the same process served it


def test_event_text_reaches_the_function_unchanged(tmp_path: Path) -> None:
    """Whichever encoder the edge takes for the pipe (orjson, or the standard library for a
    lone surrogate from bytes that were not valid text), the function reads the same text."""
    values = {
        "x-text": "caf\u00e9 \u2028 line\u2029sep \U0001f600 \x7f",
        "x-quote": 'a "quoted" \\ back\\slash\t',
    }
    plain = build_event("origin-response", headers=list(values.items()))
    hostile = build_event("origin-response", headers=[*values.items(), ("x-raw", "\udcff!")])
    (first, second), _ = _run(
        tmp_path, {**plain, "action": "headers"}, {**hostile, "action": "headers"}
    )
    assert first.status == "ok" and second.status == "ok", (first, second)
    for name, value in values.items():
        assert first.result[name] == second.result[name] == ascii(value)
    assert second.result["x-raw"] == ascii("\udcff!")


def test_a_forged_reply_is_the_function_failing_not_the_edge(tmp_path: Path) -> None:
    """A function that finds the protocol pipe and writes its own 'reply' (unreadable, far too
    deeply nested, or for another invocation) fails its own invocation; the next one gets a
    fresh worker."""
    forgeries = ["not json\n", "[" * 100_000 + "\n", "[1]\n", '{"id": 123456789}\n']
    events: list[dict[str, Any]] = []
    for line in forgeries:
        events += [{"action": "forge", "line": line}, {"action": "pid"}]
    invocations, _ = _run(tmp_path, *events)
    for forged, after in zip(invocations[::2], invocations[1::2], strict=True):
        assert (forged.status, forged.error_type) == ("error", "Runtime.ExitError"), forged
        assert after.status == "ok" and after.cold
