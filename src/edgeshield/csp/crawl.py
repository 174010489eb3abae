"""The ``--crawl`` pass of ``csp fit``: what only exists at run time.

Static analysis sees every inline script, style and attribute in the site's files; it cannot
see a ``<style>`` a library inserts, a ``style=`` attribute set by JavaScript, or the pages a
client-side search pulls in. The crawl loads the site in Chromium through a local edge over
TLS with the candidate CSP in **report-only** mode (so the pages keep working while every
refusal is recorded, with ``'report-sample'`` added so the browser quotes what it refused),
follows same-origin links breadth-first, types into search boxes and clicks buttons and
toggles, all within a page and a time bound.

Violations carry no hash, so each one is located (the in-page listener reads the refused
element's text or attribute at the moment of the event) and the hash is computed here from
that text; other refusals map to a source (``'self'``, ``data:``, an exact origin). What
cannot be allowed without weakening the policy (``eval``, WebAssembly compilation, inline code
that vanished before it could be read) is listed, never added.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import unquote, urlsplit

from edgeshield.csp.browser import (
    Violation,
    dedupe,
    launch,
    local_edge,
    sample_fits,
    sample_is_whole,
    settle,
    watched_context,
)
from edgeshield.csp.fit import request_path
from edgeshield.csp.verify import html_pages

if TYPE_CHECKING:
    from edgeshield.policy.compiled import CompiledPolicy, PolicyBody

# Where the browser looks when a directive is absent (CSP Level 3 fallback lists).
FALLBACK: Final[dict[str, tuple[str, ...]]] = {
    "script-src-elem": ("script-src-elem", "script-src", "default-src"),
    "script-src-attr": ("script-src-attr", "script-src", "default-src"),
    "style-src-elem": ("style-src-elem", "style-src", "default-src"),
    "style-src-attr": ("style-src-attr", "style-src", "default-src"),
    "worker-src": ("worker-src", "child-src", "script-src", "default-src"),
    "frame-src": ("frame-src", "child-src", "default-src"),
    "base-uri": ("base-uri",),
    "form-action": ("form-action",),
    "frame-ancestors": ("frame-ancestors",),
}
# Elements whose refusal we can fix: a hash of their text / attribute (see browser.LISTENER).
NOT_ADDED: Final = {
    "eval": "needs 'unsafe-eval' (eval/new Function); not added — it costs the grade. "
    "Replace the eval, or add it yourself if you accept that",
    "wasm-eval": "needs 'wasm-unsafe-eval' (WebAssembly compilation); not added",
    "trusted-types-policy": "a Trusted Types policy name; not added",
    "trusted-types-sink": "a Trusted Types sink; not added",
}
SEARCH: Final = (
    "input[type=search], input[role=searchbox], input[name=q], input[name=query], "
    "input[name=search], [role=search] input[type=text], input[placeholder*='search' i], "
    "input[aria-label*='search' i]"
)
CLICKABLE: Final = (
    "button, [role=button], [role=switch], [role=tab], summary, label[for], "
    "input[type=checkbox], input[type=radio], [aria-expanded], [data-toggle], [data-bs-toggle]"
)
# A stable description of an element, so the same header button is clicked once per crawl.
# Ids and label targets are left out: a page with 40 "View Source" toggles gets one click.
_SIGNATURE_JS: Final = """e => [e.localName, e.getAttribute('class') || '',
  e.getAttribute('aria-label') || '', e.getAttribute('title') || '',
  (e.textContent || '').trim().slice(0, 60)].join('|')"""
_LINKS_JS: Final = "() => Array.from(document.querySelectorAll('a[href], area[href]'), a => a.href)"
# A word the page's own search index surely holds: from its main heading, else the title.
_TERM_JS: Final = """() => {
  const text = [document.querySelector('h1')?.textContent, document.title].join(' ');
  const words = (text.match(/[A-Za-z]{4,}/g) || []).map(w => w.toLowerCase());
  return words[0] || 'the';
}"""
HTML_SUFFIXES: Final = (".html", ".htm")


@dataclass(frozen=True)
class CrawlLimits:
    max_pages: int = 30
    seconds: float = 90.0  # the whole crawl, start-up included
    page_timeout_ms: float = 10_000
    settle_ms: float = 300
    clicks_per_page: int = 25
    searches: int = 3  # distinct search boxes typed into per crawl
    interact: bool = True


@dataclass(frozen=True, order=True)
class Addition:
    """One source the crawl adds to the CSP, and why."""

    directive: str  # the directive it goes in (the one the browser checked, or its fallback)
    source: str  # "'sha256-…'", "'unsafe-hashes'", "'self'", "data:", "https://host"
    reason: str  # what was refused, e.g. "<style> inserted at run time"
    page: str  # the first page it was seen on
    location: str  # file:line:column the browser gave, or the element


@dataclass(frozen=True)
class NotAdded:
    violation: Violation
    why: str


@dataclass
class CrawlResult:
    pages: list[str]
    additions: list[Addition]
    not_added: list[NotAdded]
    violations: list[Violation]
    stopped: str  # 'done' (nothing left), 'pages' or 'time' (a bound was reached)
    seconds: float = 0.0
    interactions: list[str] = field(default_factory=list)  # what was typed and clicked

    def csp(self, value: str) -> str:
        """``value`` with the additions applied."""
        return apply_additions(value, self.additions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "stopped": self.stopped,
            "seconds": round(self.seconds, 3),
            "additions": [
                {
                    "directive": a.directive,
                    "source": a.source,
                    "reason": a.reason,
                    "page": a.page,
                    "location": a.location,
                }
                for a in self.additions
            ],
            "not_added": [{**n.violation.to_dict(), "why": n.why} for n in self.not_added],
            "interactions": self.interactions,
        }


# --- pure: from violations to sources -------------------------------------------------------


def governing(directive: str, present: Iterable[str]) -> str:
    """The directive of the policy the browser consulted for ``directive``."""
    names = set(present)
    for name in FALLBACK.get(directive, (directive, "default-src")):
        if name in names:
            return name
    return directive


def target(directive: str, present: Iterable[str]) -> str:
    """Where a source for ``directive`` goes: the directive the browser consulted, except that
    default-src is never loosened — the directive (or its script-src/style-src family) is
    created instead, starting from default-src's sources."""
    found = governing(directive, present)
    if found != "default-src" or directive == "default-src":
        return found
    for suffix in ("-elem", "-attr"):
        if directive.endswith(suffix):
            return directive.removesuffix(suffix)
    return directive


def _origin_source(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    return f"{parts.scheme}://{host}{port}"


def _what(v: Violation) -> str:
    if v.directive.endswith("-attr"):
        kind = "style= attribute" if v.directive.startswith("style") else "event handler"
        if v.element:
            kind += f" on <{v.element}>"
        return kind
    if v.urls:
        return "javascript: URL"
    if v.element in ("script", "style"):
        return f"inline <{v.element}>"
    return "inline code"


def sources_for(v: Violation) -> tuple[list[tuple[str, str]], str | None]:
    """(effective directive, source) pairs that allow ``v``, with a reason; or the reason
    it cannot be allowed without weakening the policy."""
    blocked = v.blocked
    if blocked in NOT_ADDED:
        return [], NOT_ADDED[blocked]
    if blocked == "inline":
        hashes = v.hashes()
        if not hashes:
            return [], (
                "inline code whose text the crawl could not find (the page changed or removed "
                "it before the browser reported it, and the site's HTML does not hold it): add "
                "the hash of the code that starts with the sample by hand"
            )
        attr = v.directive.endswith("-attr") or bool(v.urls)
        pairs = [(v.directive, h) for h in hashes]
        if attr:
            pairs.insert(0, (v.directive, "'unsafe-hashes'"))
        return pairs, None
    if blocked.startswith("/"):
        return [(v.directive, "'self'")], None
    if blocked in ("data", "blob", "mediastream", "filesystem"):
        return [(v.directive, f"{blocked}:")], None
    origin = _origin_source(blocked)
    if origin is not None:
        return [(v.directive, origin)], None
    return [], f"cannot tell what to allow for blocked {blocked!r}"


def locate_in_source(violations: list[Violation], origin: Path) -> list[Violation]:
    """Give inline violations the listener could not read (the element left the page, or was
    never in one: markup parsed off-document) the texts that explain them: the browser's
    site's inline code of the same kind that starts with the sample (browsers quote the first
    40 characters, whitespace trimmed), else, when the sample is shorter than that, the sample
    itself (then it is the whole text)."""
    import dataclasses

    from edgeshield.csp.htmlscan import scan_html

    pending = [v for v in violations if v.blocked == "inline" and v.sample and not v.hashes()]
    if not pending:
        return violations
    scanned: list[tuple[str, bool, str]] | None = None  # (directive family, attribute, text)

    def site_inline() -> list[tuple[str, bool, str]]:
        found: list[tuple[str, bool, str]] = []
        root = origin.resolve()
        for path in html_pages(root):
            try:
                data = (root / unquote(path).lstrip("/")).read_bytes()
            except OSError:
                continue
            found.extend((i.directive, i.attribute, i.text) for i in scan_html(data).inline)
        return found

    out = []
    for v in violations:
        if v not in pending or v.hashes():
            out.append(v)
            continue
        if scanned is None:
            scanned = site_inline()
        family = "style-src" if v.directive.startswith("style") else "script-src"
        attribute = v.directive.endswith("-attr")
        whole = sample_is_whole(v.sample)  # the sample is all of the (trimmed) text
        texts = tuple(
            sorted(
                {
                    t
                    for d, a, t in scanned
                    if d == family and a == attribute and sample_fits(v.sample, t)
                }
            )
        )
        if not texts and whole:
            texts = (v.sample,)
        out.append(dataclasses.replace(v, candidates=texts))
    return out


def additions_for(
    violations: Iterable[Violation], present: Iterable[str]
) -> tuple[list[Addition], list[NotAdded]]:
    names = list(present)
    added: dict[tuple[str, str], Addition] = {}
    skipped: list[NotAdded] = []
    for v in violations:
        pairs, why = sources_for(v)
        if why is not None:
            skipped.append(NotAdded(v, why))
            continue
        at_runtime = bool(v.source) and not v.source.startswith(v.page.split("?")[0] + ":")
        if v.blocked == "inline":
            reason = _what(v)
        elif v.blocked in ("data", "blob", "mediastream", "filesystem"):
            reason = f"{v.blocked}: URL in {v.directive}"
        else:
            reason = f"{v.directive} load of {v.blocked}"
        if v.blocked == "inline" and at_runtime:
            reason += " created at run time"
        for directive, source in pairs:
            where = target(directive, names)
            key = (where, source)
            if key not in added:
                added[key] = Addition(where, source, reason, v.page, v.source or v.element)
    return sorted(added.values(), key=lambda a: (a.directive, a.source)), skipped


def apply_additions(value: str, additions: Iterable[Addition]) -> str:
    """The CSP ``value`` with each addition's source in its directive. A directive that only
    existed through ``default-src`` is created from default-src's sources, so the others keep
    falling back to default-src unchanged; ``'none'`` gives way to the first real source."""
    from edgeshield.policy.csp import parse_raw, render

    directives, _dupes = parse_raw(value)
    for a in additions:
        if a.directive not in directives:
            inherited = [s for s in directives.get("default-src", []) if s != "'report-sample'"]
            directives[a.directive] = inherited
        sources = directives[a.directive]
        if sources == ["'none'"] or [s.lower() for s in sources] == ["'none'"]:
            sources.clear()
        if a.source not in sources:
            sources.append(a.source)
    return render(directives)


# --- the edge's policy in report-only mode --------------------------------------------------

_CSP: Final = "content-security-policy"
_CSP_RO: Final = "content-security-policy-report-only"
_SAMPLED: Final = ("default-src", "script-src", "script-src-elem", "script-src-attr")
_SAMPLED_STYLE: Final = ("style-src", "style-src-elem", "style-src-attr")


def with_report_sample(value: str) -> str:
    from edgeshield.policy.csp import parse_raw, render

    directives, _dupes = parse_raw(value)
    for name in (*_SAMPLED, *_SAMPLED_STYLE):
        sources = directives.get(name)
        if sources is not None and "'report-sample'" not in sources:
            if sources == ["'none'"]:
                continue  # 'none' stands alone; the fallback still quotes through the others
            sources.append("'report-sample'")
    return render(directives)


def report_only_policy(compiled: CompiledPolicy, csp: str) -> CompiledPolicy:
    """A copy of a compiled policy that sends ``csp`` (plus ``'report-sample'``) as
    Content-Security-Policy-Report-Only instead of any enforced CSP, rules included."""
    header = [_CSP_RO, "Content-Security-Policy-Report-Only", with_report_sample(csp), True]

    def convert(entries: list[list[Any]], replacement: list[Any] | None) -> list[list[Any]]:
        out = [list(e) for e in entries if e[0] not in (_CSP, _CSP_RO)]
        if replacement is not None:
            out.append(replacement)
        else:  # a rule's own CSP keeps its value, in report-only mode
            for e in entries:
                if e[0] in (_CSP, _CSP_RO):
                    out.append(
                        [
                            _CSP_RO,
                            "Content-Security-Policy-Report-Only",
                            with_report_sample(e[2]),
                            True,
                        ]
                    )
        return out

    # Without the per-page table: the candidate is the union, which covers every page.
    kept = {k: v for k, v in compiled.items() if k not in ("digest", "csp_pages")}
    body = cast("PolicyBody", kept)  # a compiled policy less its digest and per-page table
    body["headers"] = convert(compiled.get("headers", []), header)
    body["rules"] = [
        {**rule, "set": convert(rule.get("set", []), None)} for rule in compiled.get("rules", [])
    ]
    from edgeshield.policy.compile import dumps

    return {**body, "digest": hashlib.sha256(dumps(body).encode()).hexdigest()[:16]}


# --- the crawl ------------------------------------------------------------------------------


def crawl_site(
    origin: Path,
    csp: str,
    *,
    policy: Path | None = None,
    limits: CrawlLimits | None = None,
    chromium: str | None = None,
) -> CrawlResult:
    """Crawl ``origin`` with ``csp`` (the candidate union CSP) in report-only mode, the other
    headers from ``policy`` (None: the strict preset). Raises BrowserMissing, EdgeStartError,
    PolicyError."""
    return asyncio.run(
        crawl_site_async(origin, csp, policy=policy, limits=limits, chromium=chromium)
    )


def _site_page(url: str, edge_url: str, origin: Path) -> str | None:
    """The site path of an HTML page of ``origin`` that ``url`` points to, else None."""
    if not url.startswith(edge_url + "/"):
        return None
    path = unquote(urlsplit(url).path) or "/"
    if path.endswith("/"):
        path += "index.html"
    if not path.lower().endswith(HTML_SUFFIXES):
        candidate = path + ".html"
        if (origin / candidate.lstrip("/")).is_file():
            path = candidate
        elif (origin / path.lstrip("/") / "index.html").is_file():
            path = path + "/index.html"
        else:
            return None
    root = origin.resolve()
    file = (root / path.lstrip("/")).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        return None
    return request_path(file.relative_to(root).as_posix())  # as verify and the manifest name it


async def crawl_site_async(
    origin: Path,
    csp: str,
    *,
    policy: Path | None = None,
    limits: CrawlLimits | None = None,
    chromium: str | None = None,
) -> CrawlResult:
    from edgeshield.policy import load, load_and_compile

    limits = limits or CrawlLimits()
    started = time.perf_counter()
    deadline = started + limits.seconds
    load(policy)  # a broken policy is a PolicyError here, before anything starts
    compiled = report_only_policy(load_and_compile(policy), csp)
    seen: list[Violation] = []
    result = CrawlResult([], [], [], [], "done")
    async with launch(chromium) as browser, local_edge(origin, compiled=compiled) as edge:
        context = await watched_context(browser, edge.url, seen.append)
        page = await context.new_page()
        crawler = _Crawler(page, edge.url, origin, limits, deadline, result)
        await crawler.run()
        await asyncio.sleep(0.5)  # the last Reporting-API batch
        await context.close()
        seen.extend(edge.inbox.violations(edge.url))
    result.violations = locate_in_source(dedupe(seen), origin)
    from edgeshield.policy.csp import parse_raw

    present = parse_raw(csp)[0].keys()
    result.additions, result.not_added = additions_for(result.violations, present)
    result.seconds = time.perf_counter() - started
    return result


class _Crawler:
    def __init__(
        self,
        page: Any,
        edge_url: str,
        origin: Path,
        limits: CrawlLimits,
        deadline: float,
        result: CrawlResult,
    ) -> None:
        self.page = page
        self.edge_url = edge_url
        self.origin = origin
        self.limits = limits
        self.deadline = deadline
        self.result = result
        self.queue: deque[str] = deque()
        self.queued: set[str] = set()
        self.clicked: set[str] = set()
        self.searched: set[str] = set()

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline

    def enqueue(self, urls: Iterable[str]) -> None:
        for url in urls:
            path = _site_page(url, self.edge_url, self.origin)
            if path is not None and path not in self.queued:
                self.queued.add(path)
                self.queue.append(path)

    async def run(self) -> None:
        everything = html_pages(self.origin)
        self.enqueue(self.edge_url + p for p in everything[:1])
        while True:
            if not self.queue:  # links exhausted: pages nothing links to, in folder order
                self.enqueue(self.edge_url + p for p in everything)
                if not self.queue:
                    return
            if len(self.result.pages) >= self.limits.max_pages:
                self.result.stopped = "pages"
                return
            if self.out_of_time():
                self.result.stopped = "time"
                return
            path = self.queue.popleft()
            await self.visit(path)

    async def load(self, path: str) -> bool:
        try:
            await self.page.goto(
                self.edge_url + path, wait_until="load", timeout=self.limits.page_timeout_ms
            )
        except Exception:
            return False
        await settle(self.page, self.limits.page_timeout_ms, self.limits.settle_ms)
        return True

    async def links(self) -> None:
        with contextlib.suppress(Exception):
            self.enqueue(await self.page.evaluate(_LINKS_JS))

    async def visit(self, path: str) -> None:
        self.result.pages.append(path)
        if not await self.load(path):
            return
        await self.links()
        if self.limits.interact and not self.out_of_time():
            await self.search(path)
            await self.click_all(path)

    async def search(self, path: str) -> bool:
        """Type into the first visible search box not searched yet; whether it did. A box in a
        closed dialog is left for later: ``click_all`` tries again once a click opened it."""
        if len(self.searched) >= self.limits.searches:
            return False
        for handle in await self.page.query_selector_all(SEARCH):
            try:
                signature = await handle.evaluate(_SIGNATURE_JS)
                if signature in self.searched or len(self.searched) >= self.limits.searches:
                    continue
                if not await handle.is_visible():
                    continue
                self.searched.add(signature)
                term = await self.page.evaluate(_TERM_JS)
                await handle.focus()
                await self.page.keyboard.type(str(term), delay=15)
                self.result.interactions.append(f"{path}: typed {term!r} into search")
                await settle(self.page, self.limits.page_timeout_ms, self.limits.settle_ms)
                await self.links()  # results rendered as links: pages the search pulls in
                before = self.page.url
                await self.page.keyboard.press("Enter")
                await settle(self.page, self.limits.page_timeout_ms, self.limits.settle_ms * 2)
                await self.links()
                if self.page.url != before:
                    await self.load(path)
                return True  # handles are stale after typing; one search box per page
            except Exception:
                continue
        return False

    async def click_all(self, path: str) -> None:
        clicks = 0
        for _round in range(3):  # a navigation restarts the round with fresh handles
            navigated = False
            for handle in await self.page.query_selector_all(CLICKABLE):
                if clicks >= self.limits.clicks_per_page or self.out_of_time():
                    return
                try:
                    signature = await handle.evaluate(_SIGNATURE_JS)
                    if signature in self.clicked:
                        continue
                    self.clicked.add(signature)
                    if not await handle.is_visible():
                        continue
                    before = self.page.url
                    await handle.click(timeout=1000, no_wait_after=True)
                    clicks += 1
                    self.result.interactions.append(
                        f"{path}: clicked {signature.split('|')[0]} {_short(signature)}"
                    )
                    await settle(self.page, 2000, self.limits.settle_ms / 2)
                    for other in self.page.context.pages:  # windows a click opened
                        if other is not self.page:
                            await other.close()
                    if self.page.url.split("#")[0] != before.split("#")[0]:
                        await self.links()
                        await self.load(path)
                        navigated = True
                        break
                    if await self.search(path):  # the click opened a search dialog
                        navigated = True  # fresh handles: typing may have changed the page
                        break
                except Exception:
                    continue
            if not navigated:
                return


def _short(signature: str) -> str:
    parts = [p for p in signature.split("|")[1:] if p]
    return repr(parts[0][:40]) if parts else ""


# --- csp fit --crawl ------------------------------------------------------------------------


def crawl_fit(
    origin: Path,
    policy_text: str,
    options: Any = None,
    same_origins: Iterable[str] = (),
    limits: CrawlLimits | None = None,
    chromium: str | None = None,
) -> tuple[Any, CrawlResult]:
    """The static fit of ``policy_text`` extended by a crawl: returns the FitResult (to plan
    and write as usual, e.g. ``fit_policy(..., result=...)``) and what the crawl saw.

    The crawl runs with the union CSP the static fit gives (the most any page could get, so a
    violation is something no page's static sources allow) and the policy's other headers.
    What it adds is site-wide: code created at run time usually comes from a shared script and
    may run on pages the crawl did not reach."""
    import dataclasses
    import tempfile

    from edgeshield.csp.fit import FitOptions, Reason
    from edgeshield.csp.fitpolicy import fit_policy
    from edgeshield.policy import load_and_compile

    union_options = dataclasses.replace(options or FitOptions(), mode="union")
    union = fit_policy(origin, policy_text, union_options, same_origins=same_origins)
    with tempfile.TemporaryDirectory(prefix="edgeshield-crawl-") as scratch:
        candidate = Path(scratch) / "edgeshield.toml"
        candidate.write_text(union.policy_text, encoding="utf-8")
        compiled = load_and_compile(candidate)
        csp = next(
            (h[2] for h in compiled["headers"] if h[0] in (_CSP, _CSP_RO)),
            "default-src 'none'",
        )
        crawl = crawl_site(origin, csp, policy=candidate, limits=limits, chromium=chromium)
    for a in crawl.additions:
        attribute = a.source == "'unsafe-hashes'"
        where = a.location if a.location.startswith("/") else f"{a.page} <{a.location}>"
        union.result.add(a.directive, a.source, Reason(f"crawl: {a.reason}", where, attribute))
    return union.result, crawl


def describe(result: CrawlResult) -> list[str]:
    """What the crawl did and added, one line each, for the console (untrusted text: the caller
    escapes it)."""
    bound = {
        "done": "every reachable page",
        "pages": "page bound reached",
        "time": "time bound reached",
    }
    lines = [
        f"Crawl: {len(result.pages)} page(s) in {result.seconds:.1f} s "
        f"({bound.get(result.stopped, result.stopped)}), {len(result.interactions)} interaction(s)"
    ]
    for a in result.additions:
        where = a.location if a.location.startswith("/") else f"{a.page} <{a.location}>"
        lines.append(f"  crawl added {a.directive} {a.source}: {a.reason} ({where})")
    for n in result.not_added:
        v = n.violation
        lines.append(f"  not added: {v.directive} {v.blocked} on {v.page} ({v.source}): {n.why}")
    if not result.additions and not result.not_added:
        lines.append("  nothing beyond the static fit was needed")
    return lines
