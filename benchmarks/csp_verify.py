"""``csp verify`` throughput on a real site: a Sphinx + furo + sphinx-copybutton site of N pages,
fitted with ``csp fit``, then loaded page by page in Chromium through the local edge with the
policy enforced. The floor, measured in the same run: the same pages in the same Chromium with
the same wait rule (load, network idle, settle) straight from a plain static server — no edge,
no headers, no violation listener.

    .venv/bin/python benchmarks/csp_verify.py [--pages 60] [--jobs 1 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

from edgeshield.csp.browser import launch, settle
from edgeshield.csp.verify import html_pages, verify_site

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))


def build_site(root: Path, pages: int) -> Path:
    src, out = root / "src", root / "site"
    src.mkdir()
    (src / "conf.py").write_text(
        'project = "Bench"\nextensions = ["sphinx_copybutton"]\nhtml_theme = "furo"\n'
    )
    names = [f"page{i:03d}" for i in range(pages - 3)]  # + index, search, genindex
    toctree = "\n".join(f"   {n}" for n in names)
    (src / "index.rst").write_text(f"Bench\n=====\n\n.. toctree::\n\n{toctree}\n")
    for i, name in enumerate(names):
        (src / f"{name}.rst").write_text(
            f"Page {i}\n{'=' * (5 + len(str(i)))}\n\nSome text about topic {i}.\n\n"
            f".. code-block:: python\n\n    print({i})\n"
        )
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(src), str(out)],
        check=True,
        capture_output=True,
    )
    return out


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


async def plain_loads(site: Path, paths: list[str], jobs: int) -> float:
    """Seconds to load ``paths`` from a plain static server with verify's wait rule."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        async with launch() as browser:
            context = await browser.new_context()
            queue: asyncio.Queue[str] = asyncio.Queue()
            for p in paths:
                queue.put_nowait(p)

            async def worker() -> None:
                page = await context.new_page()
                while not queue.empty():
                    path = queue.get_nowait()
                    await page.goto(url + path, wait_until="load")
                    await settle(page, 15_000, 250)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(jobs)))
            return time.perf_counter() - started
    finally:
        httpd.shutdown()
        httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = build_site(root, args.pages)
        paths = html_pages(site)
        policy = root / "edgeshield.toml"
        subprocess.run(
            [EDGESHIELD, "csp", "fit", "--origin", str(site), "--output", str(policy), "--json"],
            check=True,
            capture_output=True,
        )
        print(f"site: Sphinx + furo + sphinx-copybutton, {len(paths)} pages")
        print(
            f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
        )
        print("| jobs | verify pages/s | start-up s | violations | plain server pages/s | ratio |")
        print("|---|---|---|---|---|---|")
        for jobs in args.jobs:
            report = verify_site(site, policy, jobs=jobs)
            floor = asyncio.run(plain_loads(site, paths, jobs))
            plain = len(paths) / floor
            print(
                f"| {jobs} | {report.pages_per_second:.2f} | {report.startup_seconds:.1f} | "
                f"{len(report.violations)} | {plain:.2f} | {report.pages_per_second / plain:.2f}× |"
            )


if __name__ == "__main__":
    main()
