"""Header sets graded per second with ``edgeshield.grade.grade_headers``.

Grades every header set of the Observatory conformance file (166 cases) in a loop for a fixed
number of rounds and prints the median rate. Bounded: by default 7 rounds of 30 passes.

    .venv/bin/python benchmarks/grade.py [--rounds N] [--passes N] [--profile]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from edgeshield.grade import grade_headers

CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "observatory-cases.json"


def load_sets() -> list[tuple[dict[str, Any], str]]:
    cases = json.loads(CASES.read_text())
    return [(c["headers"], c["context"]["url"]) for c in cases]


def one_round(sets: list[tuple[dict[str, Any], str]], passes: int) -> float:
    start = time.perf_counter()
    for _ in range(passes):
        for headers, url in sets:
            grade_headers(headers, url)
    elapsed = time.perf_counter() - start
    return passes * len(sets) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--passes", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="profile one round instead")
    args = parser.parse_args()
    sets = load_sets()
    one_round(sets, 2)  # warm caches (preload list, PSL) and the interpreter
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        one_round(sets, args.passes)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return 0
    rates = [one_round(sets, args.passes) for _ in range(args.rounds)]
    print(
        json.dumps(
            {
                "header_sets": len(sets),
                "rounds": args.rounds,
                "sets_per_round": args.passes * len(sets),
                "median_sets_per_s": round(statistics.median(rates)),
                "min_sets_per_s": round(min(rates)),
                "max_sets_per_s": round(max(rates)),
                "python": sys.version.split()[0],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
