"""csp fit and the per-page manifest: fit time, bundle size, per-event cost at the edge.

    .venv/bin/python benchmarks/csp_fit.py [--pages 1000] [--own-attributes 30] [--manifest-pages 10000]

Fit: ``fit_policy`` (read every page and stylesheet, hash, plan, write the policy) on a
generated documentation site of ``--pages`` pages (~9 KB each: three inline scripts, a
<style>, event handlers, style= attributes, images with srcset, external fonts), against a
floor measured in the same run: reading the same files and running the stdlib HTML parser over
them with no handlers. Then the hard case: the same site with ``--own-attributes`` style=
attributes per page that no other page has (per-page mode, tens of thousands of hashes). Edge: a policy with a per-page manifest of ``--manifest-pages`` pages
(two own hashes each, every page distinct) against the strict preset without one, both loaded
as Lambda loads them (the handler module of a staged bundle), on the same events (a different
page each time), interleaved in the same run.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

from edgeshield.bundle import build_zip, stage
from edgeshield.cloudfront import build_event
from edgeshield.csp import fit_policy
from edgeshield.policy import compile_policy, load, load_and_compile
from edgeshield.policy.csp_pages import manifest_text
from edgeshield.policy.presets import preset_text

BODY = "".join(
    f"<p>Paragraph {i} of the documentation, with <code>inline code</code> and a "
    f'<a href="../page-{i}.html">link</a>. Lorem ipsum dolor sit amet, consectetur.</p>\n'
    for i in range(40)
)
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Page {n}</title>
<link rel="stylesheet" href="/css/theme.css"><link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">
<link rel="icon" href="/favicon.png"><script src="/js/search.js" defer></script>
<script>document.documentElement.dataset.theme = localStorage.getItem("theme") || "light";</script>
<script>window.PAGE = {{"id": {n}, "path": "/docs/page-{n}.html", "toc": ["intro", "usage"]}};</script>
<style>.hl-{n} {{ background: #ffe; }} .icon {{ background: url("data:image/svg+xml,%3Csvg%3E%3C/svg%3E") }}</style>
</head><body>
<header><button onclick="toggleTheme()">Theme</button><button onclick="openSearch(); return false;">Search</button></header>
<nav style="width: 16rem">{nav}</nav>
<main><h1 style="margin-top: 0">Page {n}</h1>
<img src="/img/shot-{n}.png" srcset="/img/shot-{n}@2x.png 2x" style="max-width: {width}px" alt="">
{body}
<pre><code><span style="color: #a31515">"string"</span> <span style="color: #0000ff">keyword</span></code></pre>
<a href="#top" onclick="window.scrollTo(0, 0); return false;">Top</a>
</main><script>hljs.highlightAll();</script></body></html>
"""
CSS = """@font-face { font-family: Inter; src: url(https://fonts.gstatic.com/s/inter.woff2) format("woff2"); }
body { background: url(/img/bg.png) }
.logo { background-image: url("data:image/png;base64,iVBORw0KGgo=") }
"""


def write_site(root: Path, pages: int, own_attributes: int = 0) -> None:
    """The site; with ``own_attributes``, every page also carries that many style= attributes
    no other page has (the hard case: tens of thousands of hashes, a CSP per page)."""
    (root / "docs").mkdir(parents=True)
    (root / "css").mkdir()
    (root / "css" / "theme.css").write_text(CSS)
    nav = "".join(f'<a href="/docs/page-{i}.html">Page {i}</a>' for i in range(30))
    for n in range(pages):
        path = root / ("index.html" if n == 0 else f"docs/page-{n}.html")
        own = "".join(
            f'<span style="width: {n * own_attributes + i}px">{i}</span>'
            for i in range(own_attributes)
        )
        path.write_text(PAGE.format(n=n, nav=nav, body=BODY + own, width=400 + n % 7 * 40))


def floor(root: Path) -> None:
    """Read every file and tokenize the HTML with the stdlib parser, doing nothing else."""
    for path in sorted(root.rglob("*")):
        if path.suffix == ".html":
            parser = HTMLParser()
            parser.feed(path.read_bytes().decode("utf-8"))
            parser.close()
        elif path.is_file():
            path.read_bytes()


def fit_times(pages: int, rounds: int, own_attributes: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        write_site(site, pages, own_attributes)
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        ours, base, ours_cpu, base_cpu = [], [], [], []
        fitted = None
        for _ in range(rounds):
            start, cpu = time.perf_counter(), time.process_time()
            floor(site)
            base.append(time.perf_counter() - start)
            base_cpu.append(time.process_time() - cpu)
            start, cpu = time.perf_counter(), time.process_time()
            fitted = fit_policy(site, preset_text("strict"))
            ours.append(time.perf_counter() - start)
            ours_cpu.append(time.process_time() - cpu)
        assert fitted is not None
        return {
            "site_bytes": size,
            "fit_s": statistics.median(ours),
            "floor_s": statistics.median(base),
            "fit_cpu_s": statistics.median(ours_cpu),
            "floor_cpu_s": statistics.median(base_cpu),
            "mode": fitted.plan.mode,
            "largest": fitted.plan.largest_bytes,
            "union": fitted.plan.union_bytes,
        }


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def manifest_policy(tmp: Path, pages: int) -> Path:
    """The strict preset with a per-page manifest: every page two hashes of its own."""
    table = {
        f"/docs/page-{n}.html": {
            "script-src": [_digest(f"window.PAGE = {n}")],
            "style-src": [_digest(f".hl-{n} {{}}")],
        }
        for n in range(pages)
    }
    (tmp / "pages.json").write_text(manifest_text(table))
    text = (
        preset_text("strict")
        + '\n[headers.content-security-policy.fitted]\nper-page = "pages.json"\n'
    )
    (tmp / "policy.toml").write_text(text)
    return tmp / "policy.toml"


def load_handler(root: Path, name: str) -> ModuleType:
    """The handler module of a staged bundle, as Lambda imports it (its own policy.json)."""
    spec = importlib.util.spec_from_file_location(name, root / "edgeshield" / "edge" / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def per_event(today: ModuleType, paged: ModuleType, pages: int, rounds: int) -> dict[str, float]:
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", "9123"),
        ("Date", "Wed, 25 Nov 2026 10:00:00 GMT"),
        ("Server", "AmazonS3"),
        ("ETag", '"5f2b-1a2b3c"'),
        ("Last-Modified", "Tue, 24 Nov 2026 09:00:00 GMT"),
        ("Cache-Control", "max-age=300"),
        ("Accept-Ranges", "bytes"),
    ]
    events = [
        build_event(
            "origin-response", uri=f"/docs/page-{n * 7 % pages}.html", response_headers=headers
        )
        for n in range(2000)
    ]
    for event in events:  # both answer a page with its own sources
        assert (
            paged.handler(event)["headers"]["content-security-policy"]
            != today.handler(event)["headers"]["content-security-policy"]
        )
    ours: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        for module, samples in ((today, base), (paged, ours)):
            fn = module.handler
            for event in events:
                start = time.perf_counter_ns()
                fn(event, None)
                samples.append((time.perf_counter_ns() - start) / 1000)
    q = statistics.quantiles
    return {
        "paged_p50": statistics.median(ours),
        "paged_p99": q(ours, n=100)[98],
        "today_p50": statistics.median(base),
        "today_p99": q(base, n=100)[98],
    }


def cold_start(root: Path, runs: int) -> float:
    event = json.dumps(build_event("origin-response", uri="/docs/page-1.html"))
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import json;"
        "from edgeshield.edge.handler import handler; handler(json.loads(sys.argv[2]), None)"
    )
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-I", "-S", "-B", "-c", script, str(root), event], check=True
        )
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--manifest-pages", type=int, default=10000)
    parser.add_argument("--fit-rounds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument(
        "--own-attributes",
        type=int,
        default=30,
        help="the hard case: style= attributes per page that no other page has",
    )
    args = parser.parse_args()

    for label, own in (
        ("", 0),
        (f", {args.own_attributes} own style= per page", args.own_attributes),
    ):
        fit = fit_times(args.pages, args.fit_rounds, own)
        print(
            f"csp fit, {args.pages:,} pages{label} ({fit['site_bytes'] / 1e6:.1f} MB): wall {fit['fit_s']:.2f} s, "
            f"CPU {fit['fit_cpu_s']:.2f} s (target <= 5 s); floor (read + stdlib tokenize) wall "
            f"{fit['floor_s']:.2f} s, CPU {fit['floor_cpu_s']:.2f} s; ratio (CPU) "
            f"{fit['fit_cpu_s'] / fit['floor_cpu_s']:.2f}x; mode {fit['mode']}, union {fit['union']:,} bytes, "
            f"largest header {fit['largest']:,} bytes"
        )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        policy, _warnings = load(manifest_policy(work, args.manifest_pages))
        compiled = compile_policy(policy)
        info = build_zip(compiled, work / "edge.zip")
        today_root = stage(load_and_compile(None), work / "today")
        paged_root = work / "paged"
        with zipfile.ZipFile(info.path) as archive:
            archive.extractall(paged_root)
        raw = len(zipfile.ZipFile(info.path).read("edgeshield/edge/policy.json"))
        print(
            f"bundle with a {args.manifest_pages:,}-page manifest: {info.size:,} bytes compressed "
            f"({info.size / 2**20:.2f} MB; {'fits' if info.fits_origin else 'EXCEEDS'} the 50 MB origin limit, "
            f"{'fits' if info.fits_viewer else 'exceeds'} the 1 MB viewer limit); policy.json {raw:,} bytes"
        )
        cold_today = cold_start(today_root, args.cold_runs)
        cold_paged = cold_start(paged_root, args.cold_runs)
        print(
            f"cold start (interpreter + import + first invoke): {cold_paged:.1f} ms with the manifest vs {cold_today:.1f} ms without"
        )
        today = load_handler(today_root, "handler_today")
        paged = load_handler(paged_root, "handler_paged")
        hot = per_event(today, paged, args.manifest_pages, args.rounds)
    print(
        f"per event  per-page manifest: p50 {hot['paged_p50']:.2f} µs  p99 {hot['paged_p99']:.2f} µs"
    )
    print(
        f"per event  strict, no manifest: p50 {hot['today_p50']:.2f} µs  p99 {hot['today_p99']:.2f} µs"
    )
    print(f"ratio p50: {hot['paged_p50'] / hot['today_p50']:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
