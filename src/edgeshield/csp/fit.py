"""Fit a CSP to a static site: read every page and stylesheet, collect what each page needs.

``fit_site`` does the reading and returns a ``FitResult``: for every request path, each source
its CSP must allow and why (file:line). Anything else that learns about the site (the browser
pass of ``csp fit --crawl``) adds to the same result with ``FitResult.add``. ``plan`` (pure) then
turns a result and the policy's own CSP into what is written: one union CSP, or the sources all
pages share plus a per-page manifest.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import quote, urlsplit

from edgeshield.csp.cssscan import scan_css
from edgeshield.csp.evaluator.urls import script_bypass
from edgeshield.csp.htmlscan import scan_html
from edgeshield.csp.sources import exact_url, resolve
from edgeshield.policy.csp import render
from edgeshield.policy.csp_pages import effective_sources, merge_sources

HTML_SUFFIXES = (".html", ".htm")
CSS_SUFFIXES = (".css",)
UNSAFE_HASHES = "'unsafe-hashes'"
UNSAFE_INLINE = "'unsafe-inline'"
UNSAFE_EVAL = "'unsafe-eval'"
WARN_HEADER_BYTES = 8192
DEFAULT_MAX_UNION = 4096
# Pages generators write for "not found" (MkDocs, Jekyll, Hugo, Docusaurus, …), at the root
# or under a site's base path (a site published in /blog/ has /blog/404.html).
ERROR_PAGES = ("/404.html", "/404/index.html")
# Markers a page's HTML carries when the site routes on the client: a link swaps the page's
# content without loading a new document, so the first page's CSP governs every page reached.
_CLIENT_ROUTERS: Final = (
    (b'id="__docusaurus"', "Docusaurus"),
    (b'id="___gatsby"', "Gatsby"),
    (b'id="__NEXT_DATA__"', "Next.js"),
    (b"window.__NUXT__", "Nuxt"),
    (b"__VP_HASH_MAP__", "VitePress"),
    (b"astro-view-transitions-enabled", "Astro's view transitions"),
    (b"data-sveltekit", "SvelteKit"),
)
# JavaScript that compiles WebAssembly: CSP blocks that without 'wasm-unsafe-eval'
# (https://www.w3.org/TR/CSP3/#wasm-integration); Pagefind's search is one such script.
_WASM_CALL: Final = re.compile(
    rb"\bWebAssembly\s*\.\s*(?:instantiate|instantiateStreaming|compile|compileStreaming|Module)\b"
)
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")
# Directives in the order a fitted table lists them.
DIRECTIVE_ORDER = (
    "default-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "manifest-src",
    "frame-src",
    "worker-src",
    "child-src",
    "object-src",
    "base-uri",
    "form-action",
)
_KEYWORD_ORDER = (
    "'self'",
    UNSAFE_HASHES,
    UNSAFE_INLINE,
    UNSAFE_EVAL,
    "'wasm-unsafe-eval'",
    "'strict-dynamic'",
    "'report-sample'",
)
# A stylesheet on another host is not read, but these hosts' stylesheets always load their fonts
# from one known place (Google Fonts CSS: https://developers.google.com/fonts/docs/getting_started).
_STYLESHEET_FONT_HOSTS = {"https://fonts.googleapis.com": "https://fonts.gstatic.com"}
# Where Google's CSP Evaluator looks for hosts that serve JSONP or AngularJS.
SCRIPT_DIRECTIVES = ("script-src", "script-src-elem")
# What stays as it is in the path of a link to a file (the characters browsers leave alone in
# a URL path, https://url.spec.whatwg.org/#path-percent-encode-set, but "%": a file whose name
# holds one is reached as %25, since S3 decodes the path into the key).
_PATH_SAFE = "/!$&'()*+,;=:@~[]|^\\"


@dataclass(frozen=True)
class Reason:
    """Why a source is needed: what was found, and where (``file:line``, or a URL)."""

    why: str
    location: str = ""
    attribute: bool = False  # an attribute or javascript: URL: needs 'unsafe-hashes'
    code: str = field(default="", compare=False)  # the code hashed, for the report

    def __str__(self) -> str:
        return f"{self.why} at {self.location}" if self.location else self.why


def source_key(source: str) -> tuple[int, str]:
    """Deterministic order: keywords, schemes, hosts, hashes."""
    if source in _KEYWORD_ORDER:
        return 0, f"{_KEYWORD_ORDER.index(source):02d}"
    if source.startswith("'"):
        return 3 if source.startswith("'sha") else 1, source
    if source.endswith(":"):
        return 1, source
    return 2, source


def directive_key(name: str) -> tuple[int, str]:
    return (DIRECTIVE_ORDER.index(name), name) if name in DIRECTIVE_ORDER else (99, name)


Sources = dict[str, dict[str, list[Reason]]]  # directive -> source -> reasons


def _add(table: Sources, directive: str, source: str, reason: Reason) -> None:
    reasons = table.setdefault(directive, {}).setdefault(source, [])
    if reason not in reasons:
        reasons.append(reason)


@dataclass
class FitResult:
    """What a site needs. ``site``: sources every page needs (its stylesheets, additions that
    are not tied to one page); ``pages``: request path -> that page's own sources."""

    origin: str
    files: dict[str, str] = field(default_factory=dict)  # request path -> file, relative
    site: Sources = field(default_factory=dict)
    pages: dict[str, Sources] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    client_routing: str | None = None  # "<framework> (<file>)" when a page routes on the client

    def add(
        self, directive: str, source: str, reason: Reason | str, page: str | None = None
    ) -> None:
        """Allow ``source`` in ``directive``, for one request path or (``page=None``) every page.
        A reason with ``attribute=True`` also brings 'unsafe-hashes' into that directive."""
        if isinstance(reason, str):
            reason = Reason(reason)
        table = self.site if page is None else self.pages.setdefault(page, {})
        _add(table, directive, source, reason)
        if reason.attribute:
            _add(table, directive, UNSAFE_HASHES, Reason("hashes of attributes or URLs need it"))

    def sources_for_site(self) -> dict[str, set[str]]:
        """Sources every page needs whatever its path."""
        return {d: set(s) for d, s in self.site.items()}

    def sources_for_page_only(self, page: str) -> dict[str, set[str]]:
        """Sources only ``page`` brings (the site-wide ones not included)."""
        return {d: set(s) for d, s in self.pages.get(page, {}).items()}

    def reasons(self) -> Iterator[tuple[str | None, str, str, list[Reason]]]:
        """(page or None, directive, source, reasons), in a stable order."""
        for page, table in [(None, self.site), *sorted(self.pages.items())]:
            for directive in sorted(table, key=directive_key):
                for source in sorted(table[directive], key=source_key):
                    yield page, directive, source, table[directive][source]


def request_path(relative: str) -> str:
    """The path a browser requests for a file at ``relative`` (POSIX) under the site root."""
    return "/" + quote(relative, safe=_PATH_SAFE)


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, file) for every file under ``root``, sorted; dot-directories other
    than .well-known (a .git, say) are not part of the site."""
    for current, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") or d == ".well-known")
        for name in sorted(names):
            path = Path(current) / name
            yield path.relative_to(root).as_posix(), path


def has_pages(origin: Path) -> bool:
    """True when ``origin`` holds at least one HTML page that ``fit_site`` would read."""
    return any(relative.lower().endswith(HTML_SUFFIXES) for relative, _ in _walk(origin))


def _ref_sources(
    result: FitResult,
    directive: str,
    url: str,
    reason: Reason,
    page: str | None,
    same_origins: frozenset[str],
) -> None:
    resolved = resolve(url, same_origins)
    if resolved.source is None:
        if resolved.note:
            result.warnings.append(f"{reason.location}: {url[:200]!r} skipped: {resolved.note}")
        return
    why = reason.why + (f" ({resolved.note})" if resolved.note else "")
    source = resolved.source
    if directive in SCRIPT_DIRECTIVES and "://" in source and _bypass_host(source):
        # Any script on such a host runs under a host source, an attacker's JSONP call or
        # AngularJS build too: allow only the file the page loads.
        source = exact_url(source, url) or source
    result.add(directive, source, Reason(why, reason.location), page)
    fonts = _STYLESHEET_FONT_HOSTS.get(resolved.source) if directive == "style-src" else None
    if fonts is not None:
        why = f"fonts of the {resolved.source} stylesheet"
        result.add("font-src", fonts, Reason(why, reason.location), page)
    target = _redirect_target(resolved.source, url)
    if target is not None:
        # CSP checks where a redirect lands too (https://www.w3.org/TR/CSP3/#source-list-paths-and-redirects:
        # only a path is ignored after a redirect), so the host it lands on must be allowed.
        why = f"{resolved.source} redirects there"
        result.add(directive, target, Reason(why, reason.location), page)


# Hosts that answer with a redirect to another host, which the page's markup never names:
# GitHub's avatar URLs (github.com/<user>.png, as Docusaurus blog authors use) and raw file
# links, and google.com (a search form posting to //google.com/search lands on www).
_REDIRECTS: Final = (
    (
        "https://github.com",
        re.compile(r"^/[^/]+\.png(?:[?#]|$)"),
        "https://avatars.githubusercontent.com",
    ),
    ("https://github.com", re.compile(r"^/[^/]+/[^/]+/raw/"), "https://raw.githubusercontent.com"),
    ("https://google.com", re.compile(r""), "https://www.google.com"),
)


def _redirect_target(source: str, url: str) -> str | None:
    """The host a known redirect of ``url`` (allowed as ``source``) lands on, if any."""
    if not source.startswith(("https://github.com", "https://google.com")):
        return None
    path = urlsplit(url.strip()).path
    for host, pattern, target in _REDIRECTS:
        if source == host and pattern.search(path):
            return target
    return None


def _bypass_host(source: str) -> str | None:
    """The host of the JSONP or AngularJS URL the evaluator knows ``source`` to allow."""
    jsonp, angular = script_bypass(source)
    hit = angular or jsonp
    return hit.hostname if hit is not None else None


def _bypass_notes(result: FitResult) -> list[str]:
    """One warning per script source the evaluator still flags after narrowing: a bypass host
    loaded from its root, or a file that is itself a known bypass (an AngularJS build, a JSONP
    endpoint), where an exact URL does not help."""
    found: dict[tuple[str, str], list[str]] = {}
    for table in [result.site, *result.pages.values()]:
        for directive in SCRIPT_DIRECTIVES:
            for source, reasons in table.get(directive, {}).items():
                known = _bypass_host(source) if "://" in source else None
                if known is not None:
                    places = found.setdefault((source, known), [])
                    places.extend(r.location for r in reasons if r.location)
    notes = []
    for (source, known), places in sorted(found.items()):
        what = "is itself a known CSP bypass" if source.count("/") > 2 else "serves CSP bypasses"
        notes.append(
            f"{_places(places)}: {source[:120]} {what} (JSONP or AngularJS on "
            f"{known}, per Google's CSP Evaluator): self-host it, or injected markup can run "
            "script through it"
        )
    return notes


def _places(locations: list[str]) -> str:
    """Where a note applies: the first two locations and how many more."""
    where = sorted(set(locations))
    more = f" (+{len(where) - 2} more)" if len(where) > 2 else ""
    return ", ".join(where[:2]) + more


def _external_style_notes(result: FitResult) -> list[str]:
    """One note per other host the pages load stylesheets from (but the few whose fonts are
    known): those stylesheets are never read, so the fonts and images they load are not
    fitted, and neither verify nor the crawl fetches them."""
    found: dict[str, list[str]] = {}
    for table in [result.site, *result.pages.values()]:
        for source, reasons in table.get("style-src", {}).items():
            if "://" in source and source not in _STYLESHEET_FONT_HOSTS:
                host = "/".join(source.split("/", 3)[:3])
                found.setdefault(host, []).extend(r.location for r in reasons if r.location)
    notes = []
    for host in sorted(found):
        notes.append(
            f"{_places(found[host])}: stylesheets from {host} are not read (nothing leaves "
            "the machine): the fonts and images they load are not fitted; if they load any, "
            "add their hosts to font-src or img-src in your directives"
        )
    return notes


def _wasm(result: FitResult, relative: str, data: bytes) -> None:
    """Allow WebAssembly when the site's JavaScript compiles it."""
    if b"WebAssembly" not in data:  # the common case, one scan in C
        return
    match = _WASM_CALL.search(data)
    if match is not None:
        line = data.count(b"\n", 0, match.start()) + 1
        why = f"the site's JavaScript compiles WebAssembly ({match.group().decode()})"
        result.add("script-src", "'wasm-unsafe-eval'", Reason(why, f"{relative}:{line}"))


def _client_router(data: bytes) -> str | None:
    if b"__" not in data and b"astro" not in data and b"sveltekit" not in data:
        return None
    for marker, name in _CLIENT_ROUTERS:
        if marker in data:
            return name
    return None


def _external_script_notes(result: FitResult) -> list[str]:
    """One note per other host the pages load scripts from: ``csp verify`` and the crawl never
    fetch them (nothing leaves the machine), so what they do at run time is not checked."""
    found: dict[str, list[str]] = {}
    narrowed: set[str] = set()
    for table in [result.site, *result.pages.values()]:
        for source, reasons in table.get("script-src", {}).items():
            if "://" in source:
                host = "/".join(source.split("/", 3)[:3])  # one note per host, not per file
                found.setdefault(host, []).extend(r.location for r in reasons if r.location)
                if host != source:
                    narrowed.add(host)
    notes = []
    for host in sorted(found):
        only_files = (
            "; only the files the pages name are allowed there (the host serves CSP bypasses), "
            "so a script they load from it at run time is blocked: add its exact URL by hand"
            if host in narrowed
            else ""
        )
        notes.append(
            f"{_places(found[host])}: scripts from {host} are not run by csp verify or "
            "--crawl (requests to other hosts are blocked there); what they add at run time "
            "(styles, fonts, requests) is not fitted: check those pages against the real host"
            + only_files
        )
    return notes


def fit_site(origin: Path, same_origins: Iterable[str] = ()) -> FitResult:
    """Read every HTML page and stylesheet under ``origin`` (the S3 origin's content)."""
    origins = frozenset(o.rstrip("/") for o in same_origins)
    result = FitResult(origin=str(origin))
    for relative, path in _walk(origin):
        lower = relative.lower()
        if lower.endswith(HTML_SUFFIXES):
            page = request_path(relative)
            result.files[page] = relative
            result.pages.setdefault(page, {})
            data = path.read_bytes()
            if result.client_routing is None and (router := _client_router(data)) is not None:
                result.client_routing = f"{router} ({relative})"
            _wasm(result, relative, data)
            scan = scan_html(data)
            for item in scan.inline:
                reason = Reason(item.kind, f"{relative}:{item.line}", item.attribute, item.text)
                result.add(item.directive, item.source, reason, page)
            for ref in scan.refs:
                reason = Reason(ref.why, f"{relative}:{ref.line}")
                _ref_sources(result, ref.directive, ref.url, reason, page, origins)
            for line, message in scan.warnings:
                result.warnings.append(f"{relative}:{line}: {message}")
        elif lower.endswith(CSS_SUFFIXES):
            text = path.read_bytes().decode("utf-8-sig", "replace")
            for css in scan_css(text):
                reason = Reason(css.why, f"{relative}:{css.line}")
                _ref_sources(result, css.directive, css.url, reason, None, origins)
        elif lower.endswith(SCRIPT_SUFFIXES):
            _wasm(result, relative, path.read_bytes())
    result.warnings.extend(_bypass_notes(result))
    result.warnings.extend(_external_script_notes(result))
    result.warnings.extend(_external_style_notes(result))
    if not result.files:
        result.warnings.append(f"{origin}: no HTML pages found (*.html, *.htm)")
    return result


@dataclass(frozen=True)
class FitOptions:
    mode: str = "auto"  # auto, union or per-page
    max_union: int = DEFAULT_MAX_UNION  # auto: the largest union CSP header kept as one policy
    unsafe_inline: frozenset[str] = frozenset()  # "script" and/or "style": the user asked for it
    unsafe_eval: bool = False


@dataclass(frozen=True)
class Plan:
    """What ``csp fit`` writes: the fitted additions for every page, and per page (per-page mode)."""

    mode: str  # "union" or "per-page"
    fitted: dict[str, list[str]]  # directive -> sources added for every page
    pages: dict[str, dict[str, list[str]]]  # request path -> directive -> its own sources
    union_bytes: int  # the CSP header value if every page got the union
    largest_bytes: int  # the largest CSP header value any page gets with the chosen mode
    largest_page: str
    dropped: dict[str, list[str]]  # directive -> hashes left out because 'unsafe-inline' is in it

    @property
    def too_large(self) -> bool:
        return self.largest_bytes > WARN_HEADER_BYTES


def _sorted(sources: Iterable[str]) -> list[str]:
    return sorted(set(sources), key=source_key)


def _ordered(table: dict[str, set[str]]) -> dict[str, list[str]]:
    return {d: _sorted(table[d]) for d in sorted(table, key=directive_key) if table[d]}


_INLINE_KINDS: Final = {"script-src": "script", "style-src": "style"}


def plan(result: FitResult, base: dict[str, list[str]], options: FitOptions = FitOptions()) -> Plan:
    """Decide what to write, given the policy's own CSP directives ``base`` (without any earlier
    fitted additions). Pure."""
    forced = _forced(options)
    # A hash in a directive turns its 'unsafe-inline' off in browsers: where 'unsafe-inline' is
    # (asked for, or already in the policy) hashes must stay out.
    no_hashes = {
        d
        for d in _INLINE_KINDS
        if UNSAFE_INLINE in forced.get(d, set())
        or UNSAFE_INLINE in (effective_sources(base, d) or [])
    }
    dropped: dict[str, set[str]] = {}
    site = _needed(result.sources_for_site(), base, no_hashes, dropped)
    for directive, sources in forced.items():
        site.setdefault(directive, set()).update(sources)
    pages = {
        p: _needed(result.sources_for_page_only(p), base, no_hashes, dropped)
        for p in sorted(result.pages)
    }
    union = _merged(site, *pages.values())
    union_bytes = len(render(merge_sources(base, _ordered(union))))
    variants = {json_key(t) for t in pages.values()}
    # A client-routed site keeps one document across pages, so it keeps one CSP: auto mode
    # splits it only when one CSP would be too large to send.
    limit = WARN_HEADER_BYTES if result.client_routing else options.max_union
    per_page = options.mode == "per-page" or (
        options.mode == "auto" and union_bytes > limit and len(variants) > 1
    )
    left_out = {d: _sorted(s) for d, s in dropped.items()}
    if not per_page:
        return Plan("union", _ordered(union), {}, union_bytes, union_bytes, "every page", left_out)
    fitted, own = _split(site, pages, shared_hosts=result.client_routing is not None)
    largest, largest_page = _largest(base, fitted, own)
    return Plan("per-page", _ordered(fitted), own, union_bytes, largest, largest_page, left_out)


def _forced(options: FitOptions) -> dict[str, set[str]]:
    """The keywords the user asked for: 'unsafe-inline' per kind, 'unsafe-eval'."""
    forced: dict[str, set[str]] = {}
    for directive, kind in _INLINE_KINDS.items():
        if kind in options.unsafe_inline:
            forced.setdefault(directive, set()).add(UNSAFE_INLINE)
    if options.unsafe_eval:
        forced.setdefault("script-src", set()).add(UNSAFE_EVAL)
    return forced


def _needed(
    table: dict[str, set[str]],
    base: dict[str, list[str]],
    no_hashes: set[str],
    dropped: dict[str, set[str]],
) -> dict[str, set[str]]:
    """``table`` without what the policy allows already and without hashes (recorded in
    ``dropped``) in the directives where 'unsafe-inline' must keep working."""
    out: dict[str, set[str]] = {}
    for directive, sources in table.items():
        keep = set(sources)
        if directive in no_hashes:
            gone = {s for s in keep if s.startswith("'sha") or s == UNSAFE_HASHES}
            dropped.setdefault(directive, set()).update(gone)
            keep -= gone
        keep -= set(effective_sources(base, directive) or [])
        if keep:
            out[directive] = keep
    return out


def _merged(*tables: dict[str, set[str]]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for table in tables:
        for d, s in table.items():
            merged.setdefault(d, set()).update(s)
    return merged


def _split(
    site: dict[str, set[str]], pages: dict[str, dict[str, set[str]]], shared_hosts: bool = False
) -> tuple[dict[str, set[str]], dict[str, dict[str, list[str]]]]:
    """Per-page mode: (the sources every page gets, each page's own sources). Sources every
    page has move to the shared part; each page keeps only its own. With ``shared_hosts``
    (a site that routes on the client, where one document shows page after page under the
    CSP of the first) only hashes, and the 'unsafe-hashes' they may need, stay a page's own:
    hosts, schemes and keywords go to every page, so what another page loads is allowed."""
    common: dict[str, set[str]] = {}
    if pages:
        tables = list(pages.values())
        for d in set().union(*(t.keys() for t in tables)):
            shared = set.intersection(*(t.get(d, set()) for t in tables))
            if shared_hosts:
                shared |= {s for t in tables for s in t.get(d, set()) if not _page_bound(s)}
            if shared:
                common[d] = shared
    fitted = _merged(site, common)
    # A site's 404 page is what CloudFront's custom error response serves for every missing
    # path, where the function only sees that path: what it needs goes to every page.
    for page in pages:
        if page.endswith(ERROR_PAGES):
            for d, s in pages[page].items():
                fitted.setdefault(d, set()).update(s)
                common.setdefault(d, set()).update(s)
    own: dict[str, dict[str, list[str]]] = {}
    for page, table in pages.items():
        rest = {d: s - common.get(d, set()) for d, s in table.items()}
        rest = {d: s for d, s in rest.items() if s}
        if rest:
            own[page] = _ordered(rest)
    return fitted, own


def _page_bound(source: str) -> bool:
    """Sources that per-page mode keeps per page: hashes, and 'unsafe-hashes'."""
    return source.startswith("'sha") or source == UNSAFE_HASHES


def _largest(
    base: dict[str, list[str]], fitted: dict[str, set[str]], own: dict[str, dict[str, list[str]]]
) -> tuple[int, str]:
    """The largest CSP header value any page gets in per-page mode, and that page."""
    fitted_base = merge_sources(base, _ordered(fitted))
    largest, largest_page = len(render(fitted_base)), "pages without sources of their own"
    for page, sources in own.items():
        size = len(render(merge_sources(fitted_base, sources)))
        if size > largest:
            largest, largest_page = size, page
    return largest, largest_page


def json_key(table: dict[str, set[str]]) -> str:
    return repr(sorted((d, sorted(s)) for d, s in table.items()))
