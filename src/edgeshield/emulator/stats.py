"""Counters of a running ``serve``: requests, cache, function invocations, errors, durations.

They are written to ``.edgeshield/stats.json`` (atomically, about once a second and at exit)
instead of being served on a path of the distribution, so they can never collide with the
origin's own URLs; ``edgeshield stats`` prints them.
"""

from __future__ import annotations

import json
import os
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

STATS_FILE: Final = "stats.json"
# Upper bounds (ms) of the duration histogram buckets; the last bucket is open.
BUCKETS_MS: Final = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)


_NAMES: Final = (*(f"<={b}" for b in BUCKETS_MS), f">{BUCKETS_MS[-1]}")


# "2xx" for 200-299 and so on, made once: every request counts its status class.
_CLASSES: Final = tuple(f"{n}xx" for n in range(10))


@dataclass
class Histogram:
    # One count per bucket, in the order of _NAMES (an index per duration, not a name).
    counts: list[int] = field(default_factory=lambda: [0] * len(_NAMES))
    total: int = 0
    sum_ms: float = 0.0
    max_ms: float = 0.0

    def add(self, ms: float) -> None:
        # bisect_left: a duration equal to a bound belongs to that bound's bucket (<=).
        self.counts[bisect_left(BUCKETS_MS, ms)] += 1
        self.total += 1
        self.sum_ms += ms
        if ms > self.max_ms:
            self.max_ms = ms

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.total,
            "mean_ms": round(self.sum_ms / self.total, 3) if self.total else 0.0,
            "max_ms": round(self.max_ms, 3),
            "buckets": {name: n for name, n in zip(_NAMES, self.counts, strict=True) if n},
        }


@dataclass
class Stats:
    started: float = field(default_factory=time.time)
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    x_cache: Counter[str] = field(default_factory=Counter)
    cache_hits: int = 0
    cache_misses: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)
    cold_starts: Counter[str] = field(default_factory=Counter)
    function_ms: dict[str, Histogram] = field(default_factory=dict)
    request_ms: Histogram = field(default_factory=Histogram)

    def request(self, status: int, x_cache: str, ms: float) -> None:
        self.requests += 1
        self.statuses[_CLASSES[status // 100] if status < 1000 else f"{status // 100}xx"] += 1
        self.x_cache[x_cache] += 1
        if x_cache in ("Hit", "RefreshHit"):
            self.cache_hits += 1
        elif x_cache == "Miss":
            self.cache_misses += 1
        self.request_ms.add(ms)

    def invocation(self, trigger: str, ms: float, cold: bool, outcome: str) -> None:
        self.invocations[trigger] += 1
        if cold:
            self.cold_starts[trigger] += 1
        histogram = self.function_ms.get(trigger)
        if histogram is None:  # once per trigger, not a throw-away Histogram per invocation
            histogram = self.function_ms[trigger] = Histogram()
        histogram.add(ms)
        if outcome != "ok":  # an exception is an execution error, as X-Cache names it
            self.errors["execution" if outcome == "error" else outcome] += 1

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "updated": time.time(),
            "uptime_s": round(time.time() - self.started, 1),
            "requests": self.requests,
            "statuses": dict(self.statuses),
            "x_cache": dict(self.x_cache),
            "cache": {"hits": self.cache_hits, "misses": self.cache_misses},
            "invocations": dict(self.invocations),
            "cold_starts": dict(self.cold_starts),
            "errors": dict(self.errors),
            "function_duration_ms": {k: v.to_json() for k, v in self.function_ms.items()},
            "request_duration_ms": self.request_ms.to_json(),
        }

    def write(self, state_dir: Path, extra: dict[str, Any] | None = None) -> None:
        data = self.to_json()
        if extra:
            data.update(extra)
        state_dir.mkdir(parents=True, exist_ok=True)
        tmp = state_dir / f".{STATS_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(state_dir / STATS_FILE)


def read_stats(state_dir: Path) -> dict[str, Any] | None:
    """The last counters written by ``serve`` in this state directory, or None."""
    try:
        data: dict[str, Any] = json.loads((state_dir / STATS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data
