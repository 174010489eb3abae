"""Function workers that fork, and workers that die while idle (issue 11): children are reaped,
a dead idle worker is replaced instead of answering 503 (or the collector's, 502), and serve
stops cleanly afterwards."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import time
from pathlib import Path

from tests.emulator.helpers import FUNCTIONS, Proc, children, fetch, start_serve, wait_until


def workers(serve: Proc) -> list[int]:
    return [pid for pid, state in children(serve.proc.pid) if state != "Z"]


def zombies_below(pids: list[int]) -> int:
    return sum(1 for pid in pids for _child, state in children(pid) if state == "Z")


def _serve(tmp_path: Path, origin: Proc, handler: str, *extra: str) -> Proc:
    shutil.copy(FUNCTIONS / "hostilefns.py", tmp_path / "hostilefns.py")
    return start_serve(
        tmp_path,
        "--origin", f"http://127.0.0.1:{origin.port}",
        "--function", f"origin-response={handler}",
        "--no-cache", "--quiet", "--no-reload",
        *extra,
    )  # fmt: skip


def test_children_a_function_forks_are_reaped(tmp_path: Path, origin: Proc) -> None:
    serve = _serve(tmp_path, origin, "hostilefns.forks", "--workers", "1")
    try:
        for _ in range(10):
            assert fetch(serve.port, "/page").status == 200
        pids = workers(serve)
        assert pids
        assert wait_until(lambda: zombies_below(pids) == 0, timeout=3), children(pids[0])
    finally:
        serve.stop()


def test_idle_workers_killed_are_replaced_not_503(tmp_path: Path, origin: Proc) -> None:
    # Each call leaves a child holding the worker's pipes: a killed worker never reads EOF.
    serve = _serve(tmp_path, origin, "hostilefns.forks_sleeper", "--workers", "4")
    try:
        # Four requests at once warm four workers.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _i: fetch(serve.port, "/slow/300").status, range(4)))
        first = workers(serve)
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        statuses = [fetch(serve.port, "/page").status for _ in range(8)]
        assert statuses == [200] * 8
        # The collector's own worker, too.
        report = (
            b'{"csp-report":{"blocked-uri":"https://x.example/","effective-directive":"img-src"}}'
        )
        headers = {"Content-Type": "application/csp-report"}
        path = "/_edgeshield/csp-report"
        assert fetch(serve.port, path, "POST", headers, report).status == 204
        for pid in workers(serve):
            if pid not in first:
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        assert fetch(serve.port, path, "POST", headers, report).status == 204
        assert fetch(serve.port, "/page").status == 200
    finally:
        serve.stop()
    assert serve.proc.stderr is not None
    err = serve.proc.stderr.read()
    assert "Traceback" not in err, err
    assert "Event loop is closed" not in err, err


def test_failed_cold_starts_leave_no_log_file_open(tmp_path: Path) -> None:
    """Each failed init logs to a stream of its own, which must not stay open in the log
    store (a worker killed while starting, over and over, once leaked one descriptor each)."""
    import asyncio

    from edgeshield.emulator.functions.runtime import FunctionPool, FunctionSpec
    from edgeshield.emulator.logstore import LogStore

    (tmp_path / "broken.py").write_text("raise RuntimeError('init fails')\n")
    spec = FunctionSpec(
        "origin-response", "broken.handler", tmp_path, "broken", 128, 5.0, "us-east-1"
    )
    store = LogStore(tmp_path / "logs")

    async def scenario() -> int:
        pool = FunctionPool(spec, store, max_workers=1, scratch=tmp_path)
        for _ in range(3):
            invocation = await pool.invoke({})
            assert invocation.status == "error"
        await pool.close()
        return len(store._files)

    assert asyncio.run(scenario()) == 0
    store.close()
