"""``csp verify``: load the site's pages in Chromium through a local edge that enforces the
policy, and list every CSP violation. The CI gate after ``csp fit``.

Every ``*.html`` file of the origin folder is a page (the index first, then by depth and
name), requested by the path the origin serves it at. A page counts as checked once the
network has been idle and a short settle has passed; violations come from an in-page listener
(with the blocked text read from the DOM, so the fix can name its hash) and from the reports
that reach the collector route (workers, frames), merged so each refusal is listed once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypedDict, Unpack

from edgeshield.csp.browser import (
    Violation,
    dedupe,
    launch,
    local_edge,
    settle,
    watched_context,
)
from edgeshield.csp.fit import request_path

SKIP_DIRS: Final = frozenset({".git", ".edgeshield", "node_modules", "__pycache__"})
DEFAULT_JOBS: Final = 4


@dataclass(frozen=True)
class PageError:
    page: str
    message: str


@dataclass
class VerifyReport:
    origin: str
    policy: str
    pages: list[str]
    violations: list[Violation]
    errors: list[PageError] = field(default_factory=list)
    seconds: float = 0.0  # the whole run, start-up included
    startup_seconds: float = 0.0  # Chromium and the local edge started
    total_pages: int = 0  # HTML pages in the folder (pages may hold fewer, with a limit)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.errors

    @property
    def pages_per_second(self) -> float:
        """Throughput once Chromium and the edge are up."""
        busy = self.seconds - self.startup_seconds
        return len(self.pages) / busy if busy > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "origin": self.origin,
            "policy": self.policy,
            "pages_checked": len(self.pages),
            "pages_total": self.total_pages,
            "seconds": round(self.seconds, 3),
            "startup_seconds": round(self.startup_seconds, 3),
            "pages_per_second": round(self.pages_per_second, 2),
            "violations": [v.to_dict() for v in self.violations],
            "errors": [{"page": e.page, "message": e.message} for e in self.errors],
        }


def html_pages(origin: Path) -> list[str]:
    """Site paths of every HTML page under ``origin``: the root index first, then shallow
    before deep, then by name; hidden and tool folders skipped."""
    root = origin.resolve()
    found: list[str] = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if path.suffix.lower() in (".html", ".htm") and path.is_file():
            found.append(request_path(rel.as_posix()))  # as fit keys its manifest
    # The root index first; then shallow before deep, a folder's index before its other pages
    # (a site under a base path starts at /base/index.html, not /base/404.html).
    found.sort(key=lambda p: (p != "/index.html", p.count("/"), not p.endswith("/index.html"), p))
    return found


class VerifyOptions(TypedDict, total=False):
    """How much to check and how patiently (the defaults are ``verify_site_async``'s)."""

    pages: int | None  # the first N pages in ``html_pages`` order; None: every page
    paths: Sequence[str] | None  # exactly these site paths instead
    jobs: int  # pages loaded at once (tabs of one browser context)
    timeout_ms: float  # per page load
    settle_ms: float  # quiet time after the network went idle
    chromium: str | None  # the browser executable; None: EDGESHIELD_CHROMIUM or Debian's


def verify_site(
    origin: Path, policy: Path | None = None, **options: Unpack[VerifyOptions]
) -> VerifyReport:
    """Check ``origin`` (a site folder) under ``policy`` (None: the strict preset), every page
    or the first ``pages``, or exactly ``paths``. Raises BrowserMissing or EdgeStartError."""
    return asyncio.run(verify_site_async(origin, policy, **options))


async def verify_site_async(
    origin: Path,
    policy: Path | None = None,
    *,
    pages: int | None = None,
    paths: Sequence[str] | None = None,
    jobs: int = DEFAULT_JOBS,
    timeout_ms: float = 15_000,
    settle_ms: float = 250,
    chromium: str | None = None,
) -> VerifyReport:
    everything = html_pages(origin)
    todo = list(paths) if paths is not None else everything[: pages if pages else None]
    label = str(policy) if policy is not None else "built-in preset 'strict'"
    report = VerifyReport(str(origin), label, [], [], total_pages=len(everything))
    seen: list[Violation] = []
    started = time.perf_counter()
    async with launch(chromium) as browser, local_edge(origin, policy=policy) as edge:
        context = await watched_context(browser, edge.url, seen.append)
        report.startup_seconds = time.perf_counter() - started
        await _check_pages(context, edge.url, todo, report, jobs, timeout_ms, settle_ms)
        if edge.inbox.bodies or any(v.disposition for v in seen):
            await asyncio.sleep(0.5)  # last Reporting-API batch (--short-reporting-delay)
        await context.close()
        seen.extend(edge.inbox.violations(edge.url))
    report.seconds = time.perf_counter() - started
    report.pages.sort(key=todo.index)
    report.errors.sort(key=lambda e: todo.index(e.page) if e.page in todo else 0)
    report.violations = dedupe(seen)
    return report


async def _check_pages(
    context: Any,
    base_url: str,
    todo: list[str],
    report: VerifyReport,
    jobs: int,
    timeout_ms: float,
    settle_ms: float,
) -> None:
    """Load every path of ``todo`` in up to ``jobs`` tabs of ``context``, recording each path
    and its error (if any) on ``report`` in the order they finish."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in todo:
        queue.put_nowait(path)

    async def worker() -> None:
        page = await context.new_page()
        try:
            while True:
                try:
                    path = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                error = await _check(page, base_url + path, timeout_ms, settle_ms)
                report.pages.append(path)
                if error is not None:
                    report.errors.append(PageError(path, error))
        finally:
            await page.close()

    await asyncio.gather(*(worker() for _ in range(max(1, min(jobs, len(todo) or 1)))))


async def _check(page: Any, url: str, timeout_ms: float, settle_ms: float) -> str | None:
    """Load one page; the error line when it cannot be loaded or is not a 2xx page."""
    try:
        response = await page.goto(url, wait_until="load", timeout=timeout_ms)
    except Exception as exc:  # Playwright's TimeoutError / net::ERR_*: the page is not checked
        return str(exc).splitlines()[0][:300]
    await settle(page, timeout_ms, settle_ms)
    if response is not None and response.status >= 400:
        return f"HTTP {response.status}"
    return None
