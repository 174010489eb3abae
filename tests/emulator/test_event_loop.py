"""``serve`` runs on uvloop where it is installed, and on asyncio's own loop when asked to
(``EDGESHIELD_LOOP=asyncio``); the edge answers alike on both."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from edgeshield.emulator.runner import loop_factory
from tests.emulator.helpers import fetch, start_serve

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/PID/maps")


def _uvloop_loaded(pid: int) -> bool:
    """Whether the process has mapped uvloop's compiled loop (it is imported only to run)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return any("/uvloop/loop." in line for line in maps.splitlines())


@pytest.mark.parametrize(
    ("env", "uvloop"),
    [({}, True), ({"EDGESHIELD_LOOP": "asyncio"}, False)],
    ids=["uvloop", "asyncio"],
)
def test_serve_answers_on_either_event_loop(
    tmp_path: Path, env: dict[str, str], uvloop: bool
) -> None:
    proc = start_serve(tmp_path, "--no-cache", env=env)
    try:
        for path in ("/", "/app.js", "/missing"):
            reply = fetch(proc.port, path)
            assert reply.status in (200, 404), path
            assert reply.header("x-content-type-options") == "nosniff"
            assert reply.header("x-cache") == "Miss from cloudfront"
        assert _uvloop_loaded(proc.proc.pid) is uvloop
    finally:
        assert proc.stop() == 0


def test_loop_factory_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvloop

    monkeypatch.delenv("EDGESHIELD_LOOP", raising=False)
    assert loop_factory() is uvloop.new_event_loop
    monkeypatch.setenv("EDGESHIELD_LOOP", " AsyncIO ")
    assert loop_factory() is None
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        assert not isinstance(runner.get_loop(), uvloop.Loop)
