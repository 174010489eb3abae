"""The per-page CSP manifest: sources that only some pages need, by request path.

``edgeshield csp fit`` writes it (JSON, one page per line, so a problem can name its line) and
the policy refers to it from ``[headers.content-security-policy.fitted] per-page = "FILE"``.
Compiled, it becomes a path -> variant table the edge looks up in O(1): each variant lists the
base policy's directives it replaces, so the edge only joins strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeshield import jsontext
from edgeshield.policy import csp
from edgeshield.policy.compiled import CompiledPages, VariantPart
from edgeshield.policy.problems import Problem

FORMAT = 1
INDEX_DOCUMENT = "index.html"
# Where a directive that is absent gets its sources from (https://www.w3.org/TR/CSP3/#directive-fallback-list).
FALLBACK: dict[str, tuple[str, ...]] = {
    "script-src-elem": ("script-src", "default-src"),
    "script-src-attr": ("script-src", "default-src"),
    "style-src-elem": ("style-src", "default-src"),
    "style-src-attr": ("style-src", "default-src"),
    "worker-src": ("child-src", "script-src", "default-src"),
    "frame-src": ("child-src", "default-src"),
    "fenced-frame-src": ("frame-src", "child-src", "default-src"),
    "child-src": ("default-src",),
}
PAGE_DIRECTIVES = csp.FETCH_DIRECTIVES | {"base-uri", "form-action"}


def effective_sources(directives: dict[str, list[str]], name: str) -> list[str] | None:
    """The sources that govern ``name``: its own, else its fallback's; None = unrestricted."""
    if name in directives:
        return directives[name]
    if name not in csp.FETCH_DIRECTIVES:
        return None
    for fallback in FALLBACK.get(name, ("default-src",)):
        if fallback in directives:
            return directives[fallback]
    return None


def merge_sources(
    directives: dict[str, list[str]], additions: dict[str, list[str]]
) -> dict[str, list[str]]:
    """``directives`` with ``additions`` allowed too, order kept (new directives go last).

    A directive that is absent starts from the sources it falls back to, so adding to it never
    takes away what it allowed before; one that is unrestricted stays so. 'none' goes when
    anything is added."""
    out = {name: list(sources) for name, sources in directives.items()}
    for name, sources in additions.items():
        if not sources:
            continue
        current = out.get(name)
        if current is None:
            inherited = effective_sources(out, name)
            if inherited is None:
                continue
            current = list(inherited)
        merged = [s for s in current if s.lower() != "'none'"]
        present = set(merged)  # a site's union can hold tens of thousands of hashes
        for source in sources:
            if source not in present:
                present.add(source)
                merged.append(source)
        out[name] = merged
    return out


@dataclass(frozen=True)
class CspPages:
    header: str  # content-security-policy or its report-only form
    file: str
    index_document: str
    pages: dict[str, dict[str, tuple[str, ...]]]  # request path -> directive -> sources


def manifest_text(
    pages: dict[str, dict[str, list[str]]], index_document: str = INDEX_DOCUMENT
) -> str:
    """Deterministic manifest JSON, one page per line."""
    head = json.dumps({"format": FORMAT, "index-document": index_document})[:-1]
    lines = [head + ', "pages": {']
    items = sorted(pages.items())
    for number, (path, table) in enumerate(items):
        comma = "," if number < len(items) - 1 else ""
        lines.append(f"{json.dumps(path)}: {json.dumps(table, separators=(', ', ': '))}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def _line_of(text: str, path: str | None) -> int:
    if path is None:
        return 1
    at = text.find("\n" + json.dumps(path) + ":")
    return text.count("\n", 0, at + 1) + 1 if at >= 0 else 1


@dataclass(frozen=True)
class _Manifest:
    """The manifest's text, for problems that name its file and the line of their page."""

    file: str
    text: str = ""

    def problem(self, where: str, what: str, fix: str, page: str | None = None) -> Problem:
        return Problem(where, what, fix, file=self.file, line=_line_of(self.text, page))


# Sources that belong in the policy's directives, never in one page's additions.
_NOT_PER_PAGE = ("'none'", "'unsafe-inline'", "'unsafe-eval'")


# The most a manifest can be: it ships inside the function's package, 50 MB at the most
# (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html).
MAX_MANIFEST_BYTES = 50 * 1000 * 1000


def load_manifest(path: Path, shown: str, header: str) -> tuple[CspPages | None, list[Problem]]:
    """Read and validate a manifest; every problem names ``shown`` (the path as written in the
    policy, resolved) and the line of the page it is about."""
    manifest, data, problems = _read_manifest(path, shown)
    if manifest is None:
        return None, problems
    index = data.get("index-document", INDEX_DOCUMENT)
    if not isinstance(index, str) or not index or "/" in index:
        problems.append(
            manifest.problem(
                "index-document", f"invalid {index!r}", 'a file name like "index.html"'
            )
        )
        index = INDEX_DOCUMENT
    raw_pages = data.get("pages")
    if not isinstance(raw_pages, dict):
        return None, [
            *problems,
            manifest.problem(
                "pages", "missing or not an object", "an object of request path -> directives"
            ),
        ]
    pages: dict[str, dict[str, tuple[str, ...]]] = {}
    for page, table in raw_pages.items():
        entry = _page(manifest, page, table, problems)
        if entry is not None:
            pages[page] = entry
    if any(p.severity == "error" for p in problems):
        return None, problems
    return CspPages(header, manifest.file, index, pages), problems


def _read_manifest(
    path: Path, shown: str
) -> tuple[_Manifest | None, dict[str, Any], list[Problem]]:
    """The manifest's JSON object, if the file reads, parses and says format 1."""
    manifest = _Manifest(str(path))
    try:
        with path.open("rb") as file:
            data = file.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:
            raise OSError("larger than 50 MB, the most a Lambda@Edge package may hold")
        text = data.decode("utf-8")
    except FileNotFoundError:
        fix = "run `edgeshield csp fit --origin DIR` to write it, or remove per-page"
        return None, {}, [manifest.problem("per-page", f"no such file (named by {shown})", fix)]
    except (OSError, UnicodeDecodeError) as exc:
        what = f"cannot read it ({exc})"
        return None, {}, [manifest.problem("per-page", what, "a manifest is UTF-8 JSON")]
    rerun = "re-run `edgeshield csp fit`, which writes it"
    try:
        data = jsontext.loads(text)
    except json.JSONDecodeError as exc:
        what = f"not valid JSON: {getattr(exc, 'msg', exc)}"
        line = getattr(exc, "lineno", 1)
        return None, {}, [Problem("per-page", what, rerun, file=manifest.file, line=line)]
    manifest = _Manifest(manifest.file, text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        what = "not an edgeshield CSP manifest of format 1"
        return None, {}, [manifest.problem("format", what, rerun)]
    return manifest, data, []


def _page(
    manifest: _Manifest, page: str, table: Any, problems: list[Problem]
) -> dict[str, tuple[str, ...]] | None:
    """One page's directive -> sources, the usable ones (None: the page itself is unusable)."""
    if not page.startswith("/") or any(c.isspace() or ord(c) < 0x20 for c in page):
        fix = "start with / and hold no spaces or control characters"
        problems.append(manifest.problem(f"pages.{page}", "not a request path", fix, page))
        return None
    if not isinstance(table, dict):
        what = "must be an object of directive -> sources"
        fix = '{"script-src": ["\'sha256-…\'"]}'
        problems.append(manifest.problem(f"pages.{page}", what, fix, page))
        return None
    entry: dict[str, tuple[str, ...]] = {}
    for directive, sources in table.items():
        found = _page_sources(directive, sources)
        if not found:
            entry[directive] = tuple(sources)
            continue
        where = f"pages.{page}.{directive}"
        problems.extend(manifest.problem(where, what, fix, page) for what, fix in found)
    return entry


def _page_sources(directive: str, sources: Any) -> list[tuple[str, str]]:
    """What is wrong with one page's sources for ``directive``, as (what, fix); [] = usable."""
    if directive not in PAGE_DIRECTIVES:
        return [
            (f"{directive!r} cannot be set per page", "fetch directives, base-uri or form-action")
        ]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        return [("sources must be a list of strings", "e.g. [\"'sha256-…'\"]")]
    found: list[tuple[str, str]] = []
    for source in sources:
        lower = source.lower()
        for _w, what, fix, severity in csp.check_source(directive, source):
            if severity == "error" or lower in _NOT_PER_PAGE:
                found.append((what, fix))
        if lower in _NOT_PER_PAGE or lower == "*":
            what = f"{source} does not belong in a per-page manifest"
            found.append((what, "put it in the policy's directives"))
    return found


def request_aliases(path: str, index_document: str) -> list[str]:
    """The request paths that serve the file at ``path``: an index document also answers
    for its directory, with and without the trailing slash."""
    suffix = "/" + index_document
    if not path.endswith(suffix):
        return [path]
    directory = path[: -len(index_document)]
    aliases = [path, directory]
    if directory != "/":
        aliases.append(directory.rstrip("/"))
    return aliases


def compile_pages(pages: CspPages, name: str, key: str, base_value: str) -> CompiledPages:
    """The edge's table: base directives as parts, variants as (index, replacement) lists
    (index -1 appends), and request path -> variant."""
    base, _duplicates = csp.parse_raw(base_value)
    names = list(base)
    parts = [" ".join([n, *base[n]]) for n in names]
    variants: list[list[VariantPart]] = []
    seen: dict[str, int] = {}
    exact: dict[str, int] = {}
    aliased: dict[str, int] = {}
    for path in sorted(pages.pages):
        merged = merge_sources(base, {d: list(s) for d, s in pages.pages[path].items()})
        variant: list[VariantPart] = [
            [i, " ".join([n, *merged[n]])] for i, n in enumerate(names) if merged[n] != base[n]
        ]
        variant += [[-1, " ".join([n, *merged[n]])] for n in merged if n not in base]
        if not variant:
            continue
        signature = json.dumps(variant)
        index = seen.setdefault(signature, len(variants))
        if index == len(variants):
            variants.append(variant)
        exact[path] = index
        for alias in request_aliases(path, pages.index_document)[1:]:
            aliased.setdefault(alias, index)
    return {
        "name": name,
        "key": key,
        "base": base_value,
        "parts": parts,
        "variants": variants,
        "paths": {**aliased, **exact},  # a real file wins over an index alias
    }
