"""The machine line every benchmark prints beside its figures (docs/benchmarks.md asks for
the machine and the date with each): CPUs, CPU model, Python, and the UTC time.

Imported by the scripts in this folder as ``machine`` (``python benchmarks/x.py`` puts the
folder on ``sys.path``)."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe() -> str:
    """``"2 CPUs, <model>, Python 3.x.y"``."""
    return f"{os.cpu_count()} CPUs, {cpu_model()}, Python {sys.version.split()[0]}"


def utc_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
