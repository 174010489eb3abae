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

from edgeshield.policy import csp
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
        for source in sources:
            if source not in merged:
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


def load_manifest(path: Path, shown: str, header: str) -> tuple[CspPages | None, list[Problem]]:
    """Read and validate a manifest; every problem names ``shown`` (the path as written in the
    policy, resolved) and the line of the page it is about."""
    file = str(path)

    def problem(where: str, what: str, fix: str, page: str | None = None) -> Problem:
        return Problem(where, what, fix, file=file, line=_line_of(text, page))

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
        return None, [
            problem(
                "per-page",
                f"no such file (named by {shown})",
                "run `edgeshield csp fit --origin DIR` to write it, or remove per-page",
            )
        ]
    except (OSError, UnicodeDecodeError) as exc:
        text = ""
        return None, [problem("per-page", f"cannot read it ({exc})", "a manifest is UTF-8 JSON")]
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", 1)
        return None, [
            Problem(
                "per-page",
                f"not valid JSON: {getattr(exc, 'msg', exc)}",
                "re-run `edgeshield csp fit`, which writes it",
                file=file,
                line=line,
            )
        ]
    problems: list[Problem] = []
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None, [
            problem(
                "format",
                "not an edgeshield CSP manifest of format 1",
                "re-run `edgeshield csp fit`, which writes it",
            )
        ]
    index = data.get("index-document", INDEX_DOCUMENT)
    if not isinstance(index, str) or not index or "/" in index:
        problems.append(
            problem("index-document", f"invalid {index!r}", 'a file name like "index.html"')
        )
        index = INDEX_DOCUMENT
    raw_pages = data.get("pages")
    if not isinstance(raw_pages, dict):
        return None, [
            *problems,
            problem("pages", "missing or not an object", "an object of request path -> directives"),
        ]
    pages: dict[str, dict[str, tuple[str, ...]]] = {}
    for page, table in raw_pages.items():
        if not page.startswith("/") or any(c.isspace() or ord(c) < 0x20 for c in page):
            problems.append(
                problem(
                    f"pages.{page}",
                    "not a request path",
                    "start with / and hold no spaces or control characters",
                    page,
                )
            )
            continue
        if not isinstance(table, dict):
            problems.append(
                problem(
                    f"pages.{page}",
                    "must be an object of directive -> sources",
                    '{"script-src": ["\'sha256-…\'"]}',
                    page,
                )
            )
            continue
        entry: dict[str, tuple[str, ...]] = {}
        for directive, sources in table.items():
            where = f"pages.{page}.{directive}"
            if directive not in PAGE_DIRECTIVES:
                problems.append(
                    problem(
                        where,
                        f"{directive!r} cannot be set per page",
                        "fetch directives, base-uri or form-action",
                        page,
                    )
                )
                continue
            if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
                problems.append(
                    problem(
                        where, "sources must be a list of strings", "e.g. [\"'sha256-…'\"]", page
                    )
                )
                continue
            bad = False
            for source in sources:
                for _w, what, fix, severity in csp.check_source(directive, source):
                    if severity == "error" or source.lower() in (
                        "'none'",
                        "'unsafe-inline'",
                        "'unsafe-eval'",
                    ):
                        problems.append(problem(where, what, fix, page))
                        bad = True
                if source.lower() in ("'none'", "'unsafe-inline'", "'unsafe-eval'", "*"):
                    problems.append(
                        problem(
                            where,
                            f"{source} does not belong in a per-page manifest",
                            "put it in the policy's directives",
                            page,
                        )
                    )
                    bad = True
            if not bad:
                entry[directive] = tuple(sources)
        pages[page] = entry
    if any(p.severity == "error" for p in problems):
        return None, problems
    return CspPages(header, file, index, pages), problems


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


def compile_pages(pages: CspPages, name: str, key: str, base_value: str) -> dict[str, Any]:
    """The edge's table: base directives as parts, variants as (index, replacement) lists
    (index -1 appends), and request path -> variant."""
    base, _duplicates = csp.parse_raw(base_value)
    names = list(base)
    parts = [" ".join([n, *base[n]]) for n in names]
    variants: list[list[list[Any]]] = []
    seen: dict[str, int] = {}
    exact: dict[str, int] = {}
    aliased: dict[str, int] = {}
    for path in sorted(pages.pages):
        merged = merge_sources(base, {d: list(s) for d, s in pages.pages[path].items()})
        variant: list[list[Any]] = [
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
