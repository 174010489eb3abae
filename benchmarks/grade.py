"""Header sets graded per second: ``grade_headers(...).to_dict()`` against the Observatory's own.

Two sets: the 166 header sets of the Observatory conformance file, and ``hard``, 500 generated
adversarial sets (seeded, so every run grades the same ones): long CSPs up to 3,000 characters
with many and repeated directives, repeated and malformed headers, non-ASCII text, many cookies.
When the Observatory's npm package is installed (``make observatory``) and ``node`` is on PATH,
``benchmarks/observatory_grade.mjs`` times its analyzer on the same sets in the same run: rounds
alternate between the two, and the ratio is the figure to report (the machine is
shared, so absolute rates move; the median of the per-round ratios moves much less). Rates are per
second of CPU time of the grading process (Node's includes its JIT and GC threads), so time spent
waiting for a core on a busy machine does not count against either side.

    .venv/bin/python benchmarks/grade.py [--rounds N] [--seconds S] [--set conformance|hard]
                                         [--no-observatory] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import machine
from edgeshield.grade import grade_headers

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "observatory-cases.json"
OBS_DIR = Path(os.environ.get("EDGESHIELD_OBSERVATORY_DIR", ROOT / ".cache" / "observatory"))
OBS_SCRIPT = Path(__file__).with_name("observatory_grade.mjs")

Set = tuple[dict[str, Any], str]


def conformance_sets() -> list[Set]:
    cases = json.loads(CASES.read_text())
    return [(c["headers"], c["context"]["url"]) for c in cases]


# Building blocks of the adversarial set: real-world-looking values plus the broken ones.
_DIRECTIVES = ["default-src", "script-src", "style-src", "img-src", "connect-src", "font-src",
               "media-src", "object-src", "frame-src", "child-src", "worker-src", "manifest-src",
               "frame-ancestors", "base-uri", "form-action", "script-src-elem", "style-src-attr",
               "Script-Src", "DEFAULT-SRC", "report-uri", "report-to", "navigate-to",
               "prefetch-src", "x-unknown", "img-src"]  # fmt: skip
_KEYWORDS = ["'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "'strict-dynamic'",
             "'unsafe-hashes'", "'report-sample'", "'wasm-unsafe-eval'", "'SELF'", "'nonce-",
             "'sha256-", "https:", "http:", "data:", "blob:", "*", "ws:", "'self", "self"]  # fmt: skip
_TLDS = ["com", "net", "org", "io", "co.uk", "github.io", "cloudfront.net", "de", "jp"]
_UNICODE = ["é", "ü", "ß", "中文", "日本", "ı", "\u00a0", "\u200b", "ﬀ", "Ⅻ", "🙂", "K"]
_COOKIE_ATTRS = ["Secure", "HttpOnly", "SameSite=Lax", "SameSite=Strict", "SameSite=None",
                 "SameSite=", "samesite=lax=1", "Path=/", "Path=/app", "Max-Age=0",
                 "Max-Age=31536000", "Expires=Wed, 21 Oct 2037 07:28:00 GMT", "Domain=example.com",
                 "Domain=.example.com", "Domain=other.org", "Domain=com", "secure", "HTTPONLY",
                 "Priority=High", "Partitioned", ""]  # fmt: skip
_COOKIE_NAMES = ["sessionid", "SESSIONID", "login_token", "csrftoken", "_ga", "_gid", "__Host-id",
                 "__Secure-pref", "heroku-session-affinity", "AWSALB", "JSESSIONID", "lang"]  # fmt: skip

_TYPES = ["text/html; charset=utf-8", "text/html", "application/json", "TEXT/HTML"]
_HSTS = ["max-age=63072000; includeSubDomains; preload", "max-age=31536000", "max-age=0",
         "max-age=abc", 'max-age="300"', "includeSubDomains", "",
         "max-age=15552000;includesubdomains;;preload; preload"]  # fmt: skip
_XFO = ["DENY", "SAMEORIGIN", "sameorigin ", "ALLOW-FROM https://a.com", "deny, deny", "x" * 300,
        "DÉNY"]  # fmt: skip
_REFERRER = ["no-referrer", "strict-origin-when-cross-origin", "unsafe-url, no-referrer",
             "no-referrer, bogus", "origin,,same-origin", "\u00a0origin", ""]  # fmt: skip
_NOISE = ["Server", "X-Powered-By", "Cache-Control", "ETag", "Vary", "Via", "X-Amz-Cf-Id", "Date",
          "X-Request-Id"]  # fmt: skip
_BARE = ["upgrade-insecure-requests", "block-all-mixed-content", "sandbox allow-scripts",
         "report-uri /csp"]  # fmt: skip


def _word(r: random.Random, n: int) -> str:
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789-") for _ in range(n))


def _source(r: random.Random) -> str:
    roll = r.random()
    if roll < 0.25:
        kw = r.choice(_KEYWORDS)
        if kw.endswith("-"):
            kw += _word(r, r.randint(8, 44)) + "'"
        return kw
    host = _word(r, r.randint(2, 12)) + "." + r.choice(_TLDS)
    if roll < 0.35:
        host = "*." + host
    if roll > 0.95:
        host = r.choice(_UNICODE) + host
    scheme = r.choice(["https://", "https://", "http://", "wss://", ""])
    path = r.choice(["", "", "/", "/js/", "/static/app.js", "/%7Euser/", "/a%zz/"])
    return scheme + host + r.choice(["", "", ":443", ":*", ":8080"]) + path


def _csp(r: random.Random, budget: int) -> str:
    parts: list[str] = []
    size = 0
    for _ in range(r.randint(1, 40)):
        name = r.choice(_DIRECTIVES)
        part = " ".join([name] + [_source(r) for _ in range(r.randint(0, 25))])
        if size + len(part) > budget:
            break
        parts.append(part)
        size += len(part) + 2
    if r.random() < 0.2:
        parts.append(r.choice(_BARE))
    return r.choice(["; ", ";", " ; ", ";;"]).join(parts)


def _cookie(r: random.Random) -> str:
    name = r.choice(_COOKIE_NAMES)
    if r.random() < 0.1:
        name += r.choice(_UNICODE)
    value = _word(r, r.randint(0, 200))
    attrs = [r.choice(_COOKIE_ATTRS) for _ in range(r.randint(0, 7))]
    return "; ".join([f"{name}={value}", *attrs])


def _maybe_repeat(r: random.Random, value: str, other: list[str]) -> str | list[str]:
    return [value, r.choice(other)] if r.random() < 0.15 else value


def hard_sets(n: int = 500, seed: int = 14) -> list[Set]:
    """Adversarial header sets, the same ones for a given seed."""
    r = random.Random(seed)
    out: list[Set] = []
    for _ in range(n):
        h: dict[str, Any] = {"Content-Type": r.choice(_TYPES)}
        roll = r.random()
        if roll < 0.85:
            budget = r.choice([200, 800, 1500, 3000, 3000])
            csp: str | list[str] = _csp(r, budget)
            if r.random() < 0.25:  # repeated CSP header lines (origin + CDN)
                csp = [str(csp), _csp(r, r.choice([100, 600]))]
            h[r.choice(["content-security-policy", "Content-Security-Policy"])] = csp
        if r.random() < 0.3:
            h["content-security-policy-report-only"] = _csp(r, 1200)
        if r.random() < 0.8:
            h["Strict-Transport-Security"] = _maybe_repeat(
                r,
                r.choice(_HSTS),
                ["max-age=1", "max-age=63072000"],
            )
        if r.random() < 0.8:
            h["X-Frame-Options"] = _maybe_repeat(
                r,
                r.choice(_XFO),
                ["DENY", "SAMEORIGIN"],
            )
        if r.random() < 0.8:
            h["X-Content-Type-Options"] = _maybe_repeat(
                r, r.choice(["nosniff", "NoSniff", "nosniff, nosniff", "no-sniff", ""]), ["nosniff"]
            )
        if r.random() < 0.7:
            h["Referrer-Policy"] = r.choice(_REFERRER)
        if r.random() < 0.5:
            h["Access-Control-Allow-Origin"] = r.choice(
                ["*", "https://http-observatory.security.mozilla.org", "null", "https://a.com"]
            )
            h["Access-Control-Allow-Credentials"] = r.choice(["true", "TRUE", "false"])
        for name, values in (
            ("Cross-Origin-Resource-Policy", ["same-origin", "same-site", "cross-origin", "bogus"]),
            ("Cross-Origin-Opener-Policy", ["same-origin", "same-origin-allow-popups", "x"]),
            ("Cross-Origin-Embedder-Policy", ["require-corp", "credentialless", "unsafe-none"]),
        ):
            if r.random() < 0.4:
                h[name] = _maybe_repeat(r, r.choice(values), values)
        if r.random() < 0.75:
            h["Set-Cookie"] = [_cookie(r) for _ in range(r.choice([1, 2, 5, 10, 20, 30]))]
        for _ in range(r.randint(0, 8)):  # the noise every real response carries
            h[r.choice(_NOISE)] = _word(r, r.randint(4, 60))
        host = _word(r, r.randint(3, 10)) + "." + r.choice(_TLDS)
        out.append((h, r.choice(["https://", "https://", "http://"]) + host + "/"))
    return out


def one_round(sets: list[Set], passes: int) -> float:
    # CPU time of this process, not wall time: on a shared machine the scheduler decides how
    # much of a wall-clock second we get, but not how much CPU one grading costs.
    start = time.process_time()
    for _ in range(passes):
        for headers, url in sets:
            grade_headers(headers, url).to_dict()
    return passes * len(sets) / (time.process_time() - start)


def _observatory(sets: list[Set], workdir: Path) -> Callable[[int], float] | None:
    node = shutil.which("node")
    if node is None or not (OBS_DIR / "node_modules/@mdn/mdn-http-observatory").is_dir():
        return None
    path = workdir / f"sets-{len(sets)}-{id(sets)}.json"
    path.write_text(json.dumps([{"headers": h, "url": u} for h, u in sets]))
    proc = subprocess.Popen(
        [node, str(OBS_SCRIPT), str(OBS_DIR), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=OBS_DIR,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def run(passes: int) -> float:
        stdin.write(f"{passes}\n")
        stdin.flush()
        return float(json.loads(stdout.readline())["sets_per_s"])

    return run


def _passes_for(sets: list[Set], seconds: float) -> int:
    rate = one_round(sets, 1)
    return max(1, round(rate * seconds / len(sets)))


def bench(name: str, sets: list[Set], rounds: int, seconds: float, obs: bool) -> dict[str, Any]:
    passes = _passes_for(sets, seconds)
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        run_obs = _observatory(sets, Path(tmp)) if obs else None
        if run_obs is not None:
            run_obs(passes)  # warm up V8's JIT, as our warm-up round warms the caches
        for i in range(rounds):
            # Alternate who goes first, so neither side always follows the other's cache misses.
            if run_obs is not None and i % 2:
                theirs.append(run_obs(passes))
            ours.append(one_round(sets, passes))
            if run_obs is not None and not i % 2:
                theirs.append(run_obs(passes))
    result: dict[str, Any] = {
        "set": name,
        "header_sets": len(sets),
        "rounds": rounds,
        "passes_per_round": passes,
        "edgeshield_median_sets_per_s": round(statistics.median(ours)),
        "edgeshield_min_max": [round(min(ours)), round(max(ours))],
    }
    if theirs:
        # Each round's ratio compares two back-to-back runs under the same machine load; their
        # median is the figure reported (the medians of the two rates are printed too).
        ratios = sorted(a / b for a, b in zip(ours, theirs, strict=True))
        result["observatory_median_sets_per_s"] = round(statistics.median(theirs))
        result["observatory_min_max"] = [round(min(theirs)), round(max(theirs))]
        result["ratio_median"] = round(statistics.median(ratios), 2)
        result["ratio_min_max"] = [round(ratios[0], 2), round(ratios[-1], 2)]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one round")
    parser.add_argument("--set", choices=["conformance", "hard"], action="append")
    parser.add_argument("--no-observatory", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile one round instead")
    args = parser.parse_args()
    chosen = args.set or ["conformance", "hard"]
    all_sets = {"conformance": conformance_sets, "hard": hard_sets}
    if args.profile:
        import cProfile
        import pstats

        for name in chosen:
            sets = all_sets[name]()
            one_round(sets, 2)  # warm caches (preload list, PSL) and the interpreter
            prof = cProfile.Profile()
            prof.enable()
            one_round(sets, 5)
            prof.disable()
            print(f"== {name}")
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return 0
    results = []
    for name in chosen:
        sets = all_sets[name]()
        one_round(sets, 2)
        results.append(bench(name, sets, args.rounds, args.seconds, not args.no_observatory))
    for r in results:
        print(json.dumps(r))
    print(f"\nmachine: {machine.describe()}; date: {machine.utc_now()}")
    print(
        "| set | edgeshield sets/s (median) | Observatory sets/s (median) | ratio (median of rounds) | range |"
    )
    print("|---|---|---|---|---|")
    for r in results:
        obs = r.get("observatory_median_sets_per_s")
        ratio = f"**{r['ratio_median']:.2f}×**" if obs else "n/a"
        lo_hi = r.get("ratio_min_max")
        spread = f"{lo_hi[0]:.2f}–{lo_hi[1]:.2f}×" if lo_hi else "n/a"
        print(
            f"| {r['set']} ({r['header_sets']}) | {r['edgeshield_median_sets_per_s']:,} "
            f"| {f'{obs:,}' if obs else 'n/a'} | {ratio} | {spread} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
