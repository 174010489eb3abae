"""Each serve run's own bundle directory: locked while the run lives, removed by the next run
once its lock can be taken (the run is gone), whatever its process id says."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgeshield.emulator import run_dirs
from edgeshield.emulator.config import ServeConfig
from edgeshield.emulator.runner import _listen_error

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
time.sleep(60)
"""


def _dead_run(build: Path, name: str) -> Path:
    """A directory as a run that has ended leaves it: its lock file, held by no one."""
    path = build / name
    (path / "edgeshield").mkdir(parents=True)
    (path / run_dirs.LOCK_FILE).touch()
    return path


def test_a_run_is_pruned_only_when_its_lock_is_free(tmp_path: Path) -> None:
    build = tmp_path / "build"
    # Another run, from another container for all we know: a live process id means nothing
    # here, the lock does.
    live = _dead_run(build, f"run-{os.getpid()}-live")
    gone = _dead_run(build, "run-1-gone")  # pid 1 is alive: a pid check would keep it
    young = build / "run-2-young"  # made, not locked yet: left alone for a while
    young.mkdir()
    old = build / "run-3-old"
    old.mkdir()
    an_hour_ago = time.time() - 3700
    os.utime(old, (an_hour_ago, an_hour_ago))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(live / run_dirs.LOCK_FILE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = run_dirs.new_run_dir(build)
        try:
            assert mine.name.startswith(f"run-{os.getpid()}-")
            assert sorted(p.name for p in build.iterdir()) == sorted(
                [live.name, young.name, mine.name]
            )
            run_dirs.prune(build)  # another run starting: this one's lock is held
            assert mine.is_dir()
        finally:
            run_dirs.release(mine)
        assert not mine.exists()
    finally:
        holder.kill()
        holder.wait()
    run_dirs.prune(build)  # the holder is gone: so is its lock
    assert sorted(p.name for p in build.iterdir()) == [young.name]
    assert not gone.exists() and not old.exists()


@pytest.mark.parametrize(
    ("host", "taken", "message"),
    [
        ("127.0.0.1", "('127.0.0.1', 8080)", "127.0.0.1:8080: the port is in use (another serve?); choose another with --http-port N"),
        ("::1", "('::1', 8080, 0, 0)", "[::1]:8080: the port is in use (another serve?); choose another with --http-port N"),
        ("::1", "('::1', 8443, 0, 0)", "[::1]:8443: the port is in use (another serve?); choose another with --port N"),
    ],
)  # fmt: skip
def test_a_taken_port_is_named_with_its_option(host: str, taken: str, message: str) -> None:
    config = ServeConfig(host=host, port=8443, http_port=8080, tls=True)
    error = OSError(
        errno.EADDRINUSE, f"error while attempting to bind on address {taken}: address in use"
    )
    assert _listen_error(config, error).startswith(f"cannot listen on {message}")
