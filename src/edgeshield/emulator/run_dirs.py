"""A directory of its own for each ``serve`` run, held by a lock while the run lives.

Two edges started in one directory (or one that fails to start next to a running one) must not
stage over each other's bundle: the running one's next cold start would load the other's
policy. Each run gets ``run-<pid>-<random>`` under the state directory's ``build``, with an
exclusive ``flock`` on a ``.lock`` file inside for as long as the process holds it open. A
directory whose lock can be taken belongs to a run that is gone (the kernel drops a lock with
its process), whatever machine or container that run shared the directory from and however
its process ids compare, so it is removed when the next run starts. Where ``fcntl`` is
missing (Windows), nothing is pruned.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Final

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked, and none is pruned
    fcntl = None  # type: ignore[assignment]

LOCK_FILE: Final = ".lock"
# A directory without a lock file may be a run between creating it and locking it: it is left
# alone until it is this old.
_UNLOCKED_GRACE_S: Final = 3600.0

_held: dict[Path, int] = {}  # run directory -> the descriptor that holds its lock


def new_run_dir(build: Path) -> Path:
    """A fresh, locked directory under ``build`` (created if needed), after removing those of
    runs that are gone. Raises OSError."""
    build.mkdir(parents=True, exist_ok=True)
    prune(build)
    path = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=build))
    if fcntl is not None:
        fd = os.open(path / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _held[path] = fd
    return path


def release(path: Path) -> None:
    """Remove a run's directory and let go of its lock."""
    shutil.rmtree(path, ignore_errors=True)
    fd = _held.pop(path, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def prune(build: Path) -> None:
    """Remove the directories of runs that are gone: their lock can be taken."""
    if fcntl is None:
        return
    for old in build.glob("run-*"):
        if old in _held or not old.is_dir() or old.is_symlink():
            continue
        try:
            fd = os.open(old / LOCK_FILE, os.O_RDWR)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - old.stat().st_mtime > _UNLOCKED_GRACE_S:
                    shutil.rmtree(old, ignore_errors=True)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a live run
            os.close(fd)
            continue
        shutil.rmtree(old, ignore_errors=True)
        os.close(fd)
