"""Editing a function (or the policy) while ``serve`` runs loads the new code: new execution
environments, an empty cache, and a clear console line when the new code cannot load."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.emulator.helpers import Proc, fetch, run_cli, start_serve, wait_until

FUNCTION = """
def handler(event, context):
    response = event["Records"][0]["cf"]["response"]
    response["headers"]["x-version"] = [{"key": "X-Version", "value": "VERSION"}]
    return response
"""


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    stamp = time.time() + 1  # a different mtime even on coarse file-system clocks
    os.utime(path, (stamp, stamp))


def _version(proc: Proc) -> str | None:
    return fetch(proc.port, "/").header("x-version")


def test_function_edits_are_picked_up(tmp_path: Path) -> None:
    module = tmp_path / "versioned.py"
    _write(module, FUNCTION.replace("VERSION", "1"))
    proc = start_serve(tmp_path, "--function", "origin-response=versioned.handler")
    try:
        assert _version(proc) == "1"
        assert fetch(proc.port, "/").x_cache == "Hit from cloudfront"
        _write(module, FUNCTION.replace("VERSION", "2"))
        assert wait_until(lambda: _version(proc) == "2", 10)
        _write(module, "def handler(event, context):\n    return (\n")  # a syntax error
        assert wait_until(lambda: fetch(proc.port, "/").status == 503, 10)
        _write(module, FUNCTION.replace("VERSION", "3"))
        assert wait_until(lambda: _version(proc) == "3", 10)
    finally:
        proc.stop()
    output = proc.output()
    assert "fails to load: Runtime.UserCodeSyntaxError" in output
    assert "reloaded" in output


def test_policy_edits_are_picked_up(tmp_path: Path) -> None:
    policy = tmp_path / "edgeshield.toml"
    _write(policy, '[headers]\nx-frame-options = "DENY"\n')
    proc = start_serve(tmp_path, "--policy", str(policy), "--quiet")
    try:
        assert fetch(proc.port, "/").header("x-frame-options") == "DENY"
        _write(policy, '[headers]\nx-frame-options = "SAMEORIGIN"\n')
        assert wait_until(
            lambda: fetch(proc.port, "/").header("x-frame-options") == "SAMEORIGIN", 10
        )
        _write(policy, "[headers\n")  # broken: the running policy stays
        time.sleep(1.5)
        assert fetch(proc.port, "/").header("x-frame-options") == "SAMEORIGIN"
    finally:
        proc.stop()
    assert "policy not reloaded" in proc.output()


def test_two_edges_in_one_directory_keep_their_own_policies(tmp_path: Path) -> None:
    """Each serve stages its own bundle: a second edge started in the same directory (or one
    that fails to start there) must not change what the first one's next execution
    environments load."""
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    _write(first, '[headers]\nx-frame-options = "DENY"\n')
    _write(second, '[headers]\nx-frame-options = "SAMEORIGIN"\n')
    edge = start_serve(tmp_path, "--policy", str(first), "--quiet", "--no-cache")
    try:
        assert fetch(edge.port, "/").header("x-frame-options") == "DENY"
        other = start_serve(tmp_path, "--policy", str(second), "--quiet", "--no-cache")
        try:
            assert fetch(other.port, "/").header("x-frame-options") == "SAMEORIGIN"
        finally:
            other.stop()
        refused = run_cli(tmp_path, "serve", "--port", str(edge.port), "--policy", str(second))
        assert refused.returncode == 2, refused.stderr  # the port is taken
        # Cold starts: the first edge's workers go, and new ones load its bundle again.
        workers = _children(edge.proc.pid)
        assert workers
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: not set(workers) & set(_children(edge.proc.pid)), 10)
        for _ in range(8):
            reply = fetch(edge.port, "/")
            assert reply.status == 200 and reply.header("x-frame-options") == "DENY", reply
        assert not set(workers) & set(_children(edge.proc.pid))
    finally:
        edge.stop()
    # Each run removes its own bundle when it stops.
    assert list((tmp_path / ".edgeshield" / "build").glob("run-*")) == []


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]
