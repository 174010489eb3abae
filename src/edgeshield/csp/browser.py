"""Chromium through a local edge: the parts ``csp verify`` and the ``--crawl`` pass share.

- ``LocalEdge`` starts the emulator (``edgeshield serve`` in-process) over TLS in front of a
  site folder, with a policy file or an already compiled policy, and records the CSP reports
  that reach ``/_edgeshield/csp-report``. TLS because browsers treat plain-HTTP pages as
  insecure contexts: no Reporting API, no secure-context features, different behaviour.
- ``launch`` starts Debian's Chromium (never a browser downloaded by a tool) with Playwright's
  async API: the sync API keeps an event loop installed on the thread while it is open.
- ``LISTENER`` is injected before any page script (CDP's addScriptToEvaluateOnNewDocument,
  which a page's CSP does not govern) and hands every ``securitypolicyviolation`` event to
  Python, with what the browser blocked read from the DOM at that moment: violation events and
  reports carry no hash (``sample`` holds at most 40 characters), so the text to hash has to
  come from the element itself.

Nothing here reaches beyond loopback: every request to another host is aborted before it
leaves the browser (CSP checks run before the request, so violations are still seen).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlsplit

from aiohttp import web

from edgeshield.report_route import REPORT_PATH

if TYPE_CHECKING:
    from edgeshield.policy import CompiledPolicy

CHROMIUM: Final = "/usr/bin/chromium"  # Debian's; EDGESHIELD_CHROMIUM names another
# A root, headless, offline machine: no sandbox (root), no background traffic; reports
# delivered within a second instead of batched for up to a minute.
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--short-reporting-delay",
)
_BINDING: Final = "__edgeshieldCspViolation"
_MAX_TEXT: Final = 1024 * 1024  # longest element text or attribute taken from a page

# Runs in every frame before the page's own scripts. Captures the binding in a closure so a
# page cannot redirect it, listens on window in the capture phase (the event is fired at the
# element when it is connected, else at the document, and bubbles), and reads what was blocked:
# the text of an inline <script>/<style>, the style= or on*= attribute, a javascript: URL.
# A refusal is reported after the script that caused it has run on, by when an inserted
# element may hold other text (a <style> appended empty, then filled) or be gone (inserted and
# removed at once, as libraries do to switch off transitions). So the texts inline elements
# held when they were inserted are kept too (a MutationObserver: hooks on the DOM calls would
# see the text sooner, but the browser then locates the refusal in this script, not the
# page's), and sent as candidates with whether the policy quotes a sample ('report-sample')
# and the policy itself, from which Python picks the text that was refused.
LISTENER: Final = """
(() => {
  const send = window.__BINDING__;
  if (typeof send !== 'function') return;
  const MAX = __MAX__;
  const clip = (s) => (typeof s === 'string' && s.length <= MAX ? s : null);
  const handlers = (el) => {
    const out = [];
    for (const a of el.attributes || []) {
      if (a.name.startsWith('on')) out.push([a.name, a.value]);
    }
    return out;
  };
  const seen = [];
  let seenChars = 0;
  const note = (el) => {
    if (!el || el.nodeType !== 1) return;
    const name = el.localName;
    if (name !== 'style' && name !== 'script') return;
    if (name === 'script') {
      if (el.hasAttribute('src')) return;
      // Data blocks (JSON-LD, templates) never run, so are never refused.
      const type = (el.getAttribute('type') || '').trim().toLowerCase();
      if (type && type !== 'module' && !/(java|ecma)script/.test(type)) return;
    }
    const text = el.textContent;
    if (typeof text !== 'string' || text.length > MAX) return;
    const last = seen[seen.length - 1];
    if (last && last[0] === name && last[1] === text) return;
    seen.push([name, text]);
    seenChars += text.length;
    while (seen.length > 500 || seenChars > 4 * MAX) seenChars -= seen.shift()[1].length;
  };
  const noteTree = (node) => {
    try {
      if (!node || (node.nodeType !== 1 && node.nodeType !== 11)) return;
      note(node);
      if (node.firstElementChild) {
        const inner = node.querySelectorAll('style, script:not([src])');
        for (let i = 0; i < inner.length && i < 50; i++) note(inner[i]);
      }
    } catch (_) {}
  };
  new MutationObserver((records) => {
    for (const r of records) {
      note(r.target);  // text put into a <style> or <script>
      for (const n of r.addedNodes) noteTree(n);
    }
  }).observe(document, {childList: true, subtree: true});
  const FALLBACK = {
    'script-src-elem': ['script-src', 'default-src'], 'script-src-attr': ['script-src', 'default-src'],
    'style-src-elem': ['style-src', 'default-src'], 'style-src-attr': ['style-src', 'default-src'],
  };
  const sampled = (e) => {
    const lists = {};
    for (const part of (e.originalPolicy || '').split(';')) {
      const words = part.trim().split(/\\s+/);
      const name = (words[0] || '').toLowerCase();
      if (name && !(name in lists)) lists[name] = words.slice(1);
    }
    for (const name of [e.effectiveDirective, ...(FALLBACK[e.effectiveDirective] || ['default-src'])]) {
      if (name in lists) return lists[name].some((w) => w.toLowerCase() === "'report-sample'");
    }
    return false;
  };
  window.addEventListener('securitypolicyviolation', (e) => {
    const t = e.target;
    const el = t && t.nodeType === 1 ? t : null;
    const found = {};
    if (el) {
      found.element = el.localName;
      if (e.effectiveDirective === 'style-src-attr') {
        found.attribute = 'style';
        found.text = clip(el.getAttribute('style'));
      } else if (e.effectiveDirective === 'script-src-attr') {
        found.handlers = handlers(el).filter(([n, v]) => v.length <= MAX);
      } else if (el.localName === 'script' || el.localName === 'style') {
        if (!el.hasAttribute('src')) found.text = clip(el.textContent);
      } else if (e.blockedURI === 'inline') {
        const href = el.getAttribute('href') || el.getAttribute('action') || el.getAttribute('src');
        if (href && /^\\s*javascript:/i.test(href)) found.urls = [href];
      }
    }
    if (!el && e.blockedURI === 'inline' && e.effectiveDirective === 'script-src-elem') {
      // A javascript: URL is reported at the document: every one it holds is a candidate;
      // the browser's sample (with 'report-sample') narrows them down.
      found.urls = Array.from(
        document.querySelectorAll('[href^="javascript:" i], [action^="javascript:" i]'),
        (n) => n.getAttribute('href') || n.getAttribute('action'),
      ).filter((u) => u && u.length <= MAX).slice(0, 200);
    }
    if (e.blockedURI === 'inline' && /-elem$/.test(e.effectiveDirective) && !found.urls) {
      const kind = e.effectiveDirective.startsWith('style') ? 'style' : 'script';
      const quoted = sampled(e);
      // Blink quotes the stripped code's first 40 UTF-16 units, as JavaScript counts them.
      const sample = typeof e.sample === 'string' ? e.sample : '';
      const fits = (t) => {
        const code = t.replace(/^[ \\t\\n\\r\\f\\v]+|[ \\t\\n\\r\\f\\v]+$/g, '');
        return sample.length < 40 ? code === sample : code.slice(0, 40) === sample;
      };
      const texts = [];
      let budget = 256 * 1024;
      if (!(quoted && typeof found.text === 'string' && fits(found.text))) {
        for (let i = seen.length - 1; i >= 0 && texts.length < 50; i--) {
          const [k, t] = seen[i];
          if (k !== kind || texts.includes(t) || (quoted && !fits(t))) continue;
          if (t.length > budget) break;
          budget -= t.length;
          texts.push(t);
        }
      }
      found.seen = texts;
      found.sampled = quoted;
      found.policy = clip(e.originalPolicy);
    }
    // An <iframe srcdoc> document is about:srcdoc (which the event reports as just "about"):
    // report it as the page that embeds it.
    let documentURI = e.documentURI;
    try {
      if (location.protocol === 'about:' && window.frameElement) {
        documentURI = window.frameElement.ownerDocument.URL;
      }
    } catch (_) {}
    send({
      documentURI, effectiveDirective: e.effectiveDirective,
      violatedDirective: e.violatedDirective, blockedURI: e.blockedURI,
      sourceFile: e.sourceFile, lineNumber: e.lineNumber, columnNumber: e.columnNumber,
      sample: e.sample, disposition: e.disposition, statusCode: e.statusCode, found,
    });
  }, true);
})();
""".replace("__BINDING__", _BINDING).replace("__MAX__", str(_MAX_TEXT))


class BrowserMissing(Exception):
    """Chromium (or Playwright) is not installed: one line saying how to get it."""


def chromium_path(path: str | None = None) -> str:
    """The browser to run: ``path``, else EDGESHIELD_CHROMIUM, else Debian's, else `chromium`
    on PATH. One that was named (argument or variable) and is not there is an error, not a
    reason to run another browser silently."""
    named = path or os.environ.get("EDGESHIELD_CHROMIUM") or None
    candidate = named or CHROMIUM
    if Path(candidate).is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("chromium")
    if named is None and found:
        return found
    where = "" if path or named is None else " (EDGESHIELD_CHROMIUM)"
    raise BrowserMissing(
        f"Chromium not found at {candidate}{where}; install Debian's chromium (`make browser` "
        "or `apt install chromium`) or set EDGESHIELD_CHROMIUM"
    )


def source_hash(text: str) -> str:
    """The CSP source that allows exactly ``text``: ``'sha256-<base64>'`` of its UTF-8 bytes,
    as browsers hash inline scripts, styles, attributes and javascript: URLs."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@dataclass(frozen=True)
class Violation:
    """One CSP violation as the browser saw it, with site paths instead of full URLs."""

    page: str  # the document's path on the site (with query), or its URL when elsewhere
    directive: str  # the effective directive (script-src-elem, style-src-attr, img-src, ...)
    violated: str  # the directive as written in the policy that refused it
    blocked: str  # 'inline', 'eval', 'wasm-eval', 'data', a path or a URL
    source: str  # file:line:column where the browser located it ('' when it gave none)
    sample: str  # the first characters the browser quotes (with 'report-sample')
    disposition: str  # 'enforce' or 'report'
    origin: str  # 'event' (in-page listener) or 'report' (arrived at the report route)
    # What the page held at the moment: the blocked text (inline <script>/<style>, style=),
    # javascript: URL, or event-handler attributes, for hashing. Not part of equality.
    element: str = field(default="", compare=False)
    text: str | None = field(default=None, compare=False, repr=False)
    urls: tuple[str, ...] = field(default=(), compare=False, repr=False)
    handlers: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    # Texts found for it elsewhere (the browser's complete sample, the site's files).
    candidates: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # An inline element's refusal: the texts such elements of the page held as they were
    # inserted or changed (newest first), whether the policy quotes samples, and the policy.
    seen: tuple[str, ...] = field(default=(), compare=False, repr=False)
    sampled: bool = field(default=False, compare=False, repr=False)
    policy: str = field(default="", compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Identity across the two channels: the same refusal seen as an event and a report.
        The sample tells apart different code refused at one place (a helper that inserts
        several styles)."""
        return (self.page, self.directive, self.blocked, self.source, self.sample)

    def hashes(self) -> list[str]:
        """The hash sources that would allow this inline code, when the page showed it."""
        return list(self._hashes)

    @cached_property
    def _hashes(self) -> tuple[str, ...]:
        # Worked out once: it may parse the policy and hash fifty texts of a megabyte.
        texts = self._element_texts()
        if texts is not None:
            return tuple(sorted({source_hash(t) for t in texts}))
        if self.text is not None:
            return (source_hash(self.text),)
        values = list(self.urls) or [v for _n, v in self.handlers] or list(self.candidates)
        if self.sample:  # the browser's quote says which one was refused
            values = [v for v in values if v.startswith(self.sample)] or values
        return tuple(sorted({source_hash(v) for v in values}))

    def _fits(self, text: str) -> bool:
        """Whether ``text`` is what the browser quoted (``sample_fits``)."""
        return sample_fits(self.sample, text)

    def _element_texts(self) -> list[str] | None:
        """The refused text of an inline ``<script>``/``<style>``, from what the element holds
        now and what such elements held before: texts whose hash the policy already allows
        were not refused; with a sample, the one it quotes (the sample itself when none is
        left and it is the whole text: an element refused empty and filled afterwards).
        None when this is not an element's refusal the listener reported on."""
        if self.blocked != "inline" or not self.directive.endswith("-elem") or self.urls:
            return None
        if not self.seen and not self.sampled and not self.policy:
            return None  # a report, or an older payload: no candidates to choose from
        allowed = _allowed(self.policy, self.directive)
        ordered = [self.text] if self.text is not None else []
        ordered += [t for t in self.seen if t != self.text]
        left = [t for t in ordered if source_hash(t) not in allowed]
        if self.sampled:
            fitting = [t for t in left if self._fits(t)]
            if self.text is not None and self.text in fitting:
                return [self.text]
            if fitting:
                return fitting
            return [self.sample] if sample_is_whole(self.sample) else []
        if self.text is not None:
            return [self.text] if self.text in left else left
        return left

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("text", "urls", "handlers", "candidates", "seen", "sampled", "policy"):
            data.pop(name)
        data["hashes"] = self.hashes()
        return data


SAMPLE_LENGTH: Final = 40  # what browsers quote of refused inline code with 'report-sample'
# Blink quotes the code with the whitespace around it stripped, cut at 40 UTF-16 code units
# (content_security_policy.cc: StripWhiteSpace().Left(40)); a character outside the BMP takes
# two, and one cut in half arrives as a lone surrogate (or U+FFFD once re-encoded).
_BLINK_SPACE = " \t\n\r\f\v"


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def sample_is_whole(sample: str) -> bool:
    """Whether a sample is all of the (stripped) code: shorter than the 40 units quoted."""
    return _utf16_length(sample) < SAMPLE_LENGTH


def sample_fits(sample: str, text: str) -> bool:
    """Whether ``text`` is code the browser would quote as ``sample``."""
    code = text.strip(_BLINK_SPACE)
    if sample_is_whole(sample):
        return code == sample
    if sample and (sample[-1] == "\ufffd" or "\ud800" <= sample[-1] <= "\udfff"):
        sample = sample[:-1]  # half of a surrogate pair: compare what came before it
    return code.startswith(sample)


def _allowed(policy: str, directive: str) -> frozenset[str]:
    """The sources that govern ``directive`` in the CSP ``policy`` (falling back as browsers
    do), lower-cased keywords and hashes as written; empty when unknown."""
    if not policy:
        return frozenset()
    from edgeshield.policy.csp import parse_raw
    from edgeshield.policy.csp_pages import effective_sources

    directives, _dupes = parse_raw(policy)
    return frozenset(effective_sources(directives, directive) or ())


def site_path(url: str, base: str) -> str:
    """``https://127.0.0.1:PORT/a/b.html?q`` -> ``/a/b.html?q`` when it is on the edge."""
    if not url:
        return ""
    if base and url.startswith(base):
        parts = urlsplit(url)
        path = unquote(parts.path) or "/"
        return path + (f"?{parts.query}" if parts.query else "")
    return url


def _text(value: Any, limit: int = 2048) -> str:
    """A string from untrusted browser data, bounded (printing sanitises it further)."""
    return value[:limit] if isinstance(value, str) else ""


def _blocked(value: Any, base: str) -> str:
    text = _text(value)
    if text.startswith(("http://", "https://")):
        return site_path(text, base)
    return text


def violation_from_event(data: Any, base: str) -> Violation | None:
    """A violation from the listener's payload (untrusted: the page could call the binding)."""
    if not isinstance(data, dict):
        return None
    raw_found = data.get("found")
    found: dict[str, Any] = raw_found if isinstance(raw_found, dict) else {}
    source = site_path(_text(data.get("sourceFile")), base)
    line, column = data.get("lineNumber"), data.get("columnNumber")
    if source and isinstance(line, int) and line > 0:
        source += f":{line}"
        if isinstance(column, int) and column > 0:
            source += f":{column}"
    raw_handlers = found.get("handlers")
    raw_handlers = raw_handlers if isinstance(raw_handlers, list) else []
    handlers = tuple(
        (str(h[0]), str(h[1]))
        for h in raw_handlers
        if isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)
    )
    text = found.get("text")
    raw_urls = found.get("urls")
    raw_urls = raw_urls if isinstance(raw_urls, list) else []
    raw_seen = found.get("seen")
    raw_seen = raw_seen if isinstance(raw_seen, list) else []
    policy = found.get("policy")
    return Violation(
        page=site_path(_text(data.get("documentURI")), base),
        directive=_text(data.get("effectiveDirective"), 64),
        violated=_text(data.get("violatedDirective"), 256),
        blocked=_blocked(data.get("blockedURI"), base),
        source=source,
        sample=_text(data.get("sample"), 256),
        disposition=_text(data.get("disposition"), 16),
        origin="event",
        element=_text(found.get("element"), 64),
        text=text if isinstance(text, str) else None,
        urls=tuple(u for u in raw_urls[:200] if isinstance(u, str)),
        handlers=handlers,
        seen=tuple(t for t in raw_seen[:50] if isinstance(t, str) and len(t) <= _MAX_TEXT),
        sampled=found.get("sampled") is True,
        policy=policy if isinstance(policy, str) and len(policy) <= _MAX_TEXT else "",
    )


def violations_from_report(body: bytes, base: str) -> list[Violation]:
    """Violations from a report-uri (``application/csp-report``) or Reporting API
    (``application/reports+json``) body; anything else yields nothing."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    items: list[dict[str, Any]] = []
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        r = data["csp-report"]
        items.append(
            {
                "documentURI": r.get("document-uri"),
                "effectiveDirective": r.get("effective-directive") or r.get("violated-directive"),
                "violatedDirective": r.get("violated-directive"),
                "blockedURI": r.get("blocked-uri"),
                "sourceFile": r.get("source-file"),
                "lineNumber": r.get("line-number"),
                "columnNumber": r.get("column-number"),
                "sample": r.get("script-sample"),
                "disposition": r.get("disposition"),
            }
        )
    elif isinstance(data, list):
        for report in data:
            if not isinstance(report, dict) or report.get("type") != "csp-violation":
                continue
            b = report.get("body")
            if not isinstance(b, dict):
                continue
            items.append(
                {
                    "documentURI": b.get("documentURL"),
                    "effectiveDirective": b.get("effectiveDirective"),
                    "violatedDirective": b.get("effectiveDirective"),
                    "blockedURI": b.get("blockedURL"),
                    "sourceFile": b.get("sourceFile"),
                    "lineNumber": b.get("lineNumber"),
                    "columnNumber": b.get("columnNumber"),
                    "sample": b.get("sample"),
                    "disposition": b.get("disposition"),
                }
            )
    out = []
    for item in items[:1000]:
        violation = violation_from_event(item, base)
        if violation is not None:
            out.append(
                Violation(**{**asdict(violation), "origin": "report", "handlers": (), "urls": ()})
            )
    return out


class ReportInbox:
    """The local route at /_edgeshield/csp-report: keeps the bodies browsers post there."""

    MAX_BODY: Final = 256 * 1024
    MAX_REPORTS: Final = 10_000

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method != "POST":
            return web.Response(status=405, text="POST reports here\n")
        body = await request.content.read(self.MAX_BODY + 1)
        if len(body) > self.MAX_BODY:
            return web.Response(status=413, text="report too large\n")
        if len(self.bodies) < self.MAX_REPORTS:
            self.bodies.append(body)
        return web.Response(status=204)

    def violations(self, base: str) -> list[Violation]:
        out: list[Violation] = []
        for body in self.bodies:
            out.extend(violations_from_report(body, base))
        return out


class EdgeStartError(Exception):
    """The local edge could not start (a policy error, a missing folder): one line."""


@dataclass
class LocalEdge:
    """A started local edge over TLS; ``url`` ends without a slash."""

    url: str
    inbox: ReportInbox
    _running: Any

    async def close(self) -> None:
        await self._running.close()


@contextlib.asynccontextmanager
async def local_edge(
    origin: Path,
    *,
    policy: Path | None = None,
    compiled: CompiledPolicy | None = None,
) -> AsyncIterator[LocalEdge]:
    """The emulator in front of ``origin`` over TLS with edgeshield's function: the policy file
    exactly as ``serve --policy`` loads it, or an already compiled policy (the crawl's
    report-only candidate). Its state (certificate, logs, staged bundle) lives in a temporary
    directory that is removed afterwards."""
    from edgeshield.bundle import stage
    from edgeshield.emulator.runner import ServeConfig, ServeError, prepare, start

    inbox = ReportInbox()
    state = Path(tempfile.mkdtemp(prefix="edgeshield-csp-"))
    try:
        config = ServeConfig(
            host="127.0.0.1",
            port=0,
            origin=str(origin),
            policy=policy.resolve() if policy is not None else None,
            cwd=state,
            access_log=None,
            reload=False,
            tls=True,
            workers=2,
            local_routes={REPORT_PATH: inbox},
            shutdown_timeout=5.0,
        )
        try:
            prepared = prepare(config)
            if compiled is not None:
                # prepare() staged the policy file (or the preset); the function's code tree
                # is the same for any policy, so staging the compiled one over it in the same
                # place is exactly what serve would have run with that policy.
                assert prepared.bundle_root is not None
                stage(compiled, prepared.bundle_root)
            running = await start(prepared)
        except ServeError as exc:
            raise EdgeStartError(str(exc)) from None
        try:
            yield LocalEdge(running.url.rstrip("/"), inbox, running)
        finally:
            await running.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)


@contextlib.asynccontextmanager
async def launch(executable: str | None = None) -> AsyncIterator[Any]:
    """Debian's Chromium, headless, through Playwright's async API."""
    path = chromium_path(executable)
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise BrowserMissing(
            "Playwright is not installed: pip install playwright (its browser download is "
            "not needed; edgeshield drives the system's Chromium)"
        ) from None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=path, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            with contextlib.suppress(Exception):
                await browser.close()


async def watched_context(
    browser: Any, edge_url: str, on_violation: Callable[[Violation], None]
) -> Any:
    """A browser context that reports every violation to ``on_violation`` and never leaves
    the edge: requests to any other origin are aborted (CSP decides before they are sent)."""
    context = await browser.new_context(ignore_https_errors=True, service_workers="block")

    def binding(_source: Any, data: Any) -> None:
        violation = violation_from_event(data, edge_url)
        if violation is not None:
            on_violation(violation)

    await context.expose_binding(_BINDING, binding)
    await context.add_init_script(LISTENER)
    prefix = edge_url + "/"

    async def only_the_edge(route: Any) -> None:
        url = route.request.url
        if url.startswith(prefix) or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    await context.route("**/*", only_the_edge)
    return context


async def settle(page: Any, timeout_ms: float, settle_ms: float) -> None:
    """Wait until the network has been idle (Playwright's 500 ms rule, bounded by
    ``timeout_ms``), then ``settle_ms`` more for timers and late handlers. Never
    ``wait_for_function``: it evaluates with eval(), which a strict CSP refuses — and reports."""
    with contextlib.suppress(Exception):
        await page.wait_for_load_state("networkidle", timeout=timeout_ms)
    if settle_ms > 0:
        await asyncio.sleep(settle_ms / 1000)


def dedupe(violations: list[Violation]) -> list[Violation]:
    """One entry per refusal: events first (they carry the DOM's text), then reports that no
    event explains (violations in workers, or before the listener could run)."""
    seen: dict[tuple[str, str, str, str, str], Violation] = {}
    for violation in sorted(violations, key=lambda v: v.origin != "event"):
        seen.setdefault(violation.key, violation)
    return sorted(seen.values(), key=lambda v: (v.page, v.directive, v.blocked, v.source))
