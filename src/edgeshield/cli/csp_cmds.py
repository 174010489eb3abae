"""CSP commands: ``csp fit`` (and, from other modules, the browser pass and verification)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edgeshield.cli.app import EXIT_USAGE, app
from edgeshield.cli.console import err, fail, out, print_json
from edgeshield.cli.options import DEFAULT_POLICY_FILE, PolicyOption

if TYPE_CHECKING:
    from edgeshield.csp import FittedPolicy

csp_app = typer.Typer(
    help="Fit a Content-Security-Policy to a site: hashes, hosts, per-page manifests.",
    no_args_is_help=True,
)
app.add_typer(csp_app, name="csp", rich_help_panel="Policy and function")

_SHOWN_LOCATIONS = 3
_SHOWN_HASHES = 25


class FitMode(StrEnum):
    auto = "auto"
    union = "union"
    per_page = "per-page"


class InlineKind(StrEnum):
    script = "script"
    style = "style"


def _clean(text: str, limit: int = 160) -> str:
    """Site content shown on a terminal: control characters escaped, long values cut."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _grade_of(policy_text: str, manifest: str | None, where: Path, uri: str) -> tuple[str, int]:
    """Observatory grade of an HTML 200 response at ``uri`` under the fitted policy."""
    import tempfile

    from edgeshield.grade import grade_headers
    from edgeshield.policy import compile_policy, parse_policy
    from edgeshield.preview import Sample, run_sample

    with tempfile.TemporaryDirectory(prefix="edgeshield-fit-") as tmp:
        if manifest is not None:
            (Path(tmp) / where.name).write_text(manifest, encoding="utf-8")
        policy, problems = parse_policy(policy_text, "<fitted>", Path(tmp))
    if policy is None:
        raise ValueError("; ".join(p.format() for p in problems))
    result = run_sample(compile_policy(policy), Sample("HTML 200", uri, 200, "text/html"))
    headers: dict[str, list[str]] = {}
    for key, value, _how in result.headers:
        headers.setdefault(key.lower(), []).append(value)
    report = grade_headers(headers, url="https://example.com/")
    return report.grade, report.score


def _locations(places: list[str]) -> str:
    shown = ", ".join(_clean(p) for p in places[:_SHOWN_LOCATIONS])
    more = len(places) - _SHOWN_LOCATIONS
    return shown + (f" (+{more} more)" if more > 0 else "")


# What to do about a high-severity evaluator finding in a fitted CSP, by finding type label.
_HIGH_FIXES = {
    "script-allowlist-bypass": "self-host the script (copy it into the site) so 'self' or a "
    "hash covers it; a host or file serving JSONP or AngularJS lets injected markup run script",
    "script-unsafe-inline": "drop --unsafe-inline script (or 'unsafe-inline' from the policy): "
    "csp fit hashes inline code instead",
    "script-unsafe-eval": "drop --unsafe-eval (or 'unsafe-eval' from the policy) once the site "
    "no longer calls eval()",
    "plain-url-schemes": "remove the bare scheme from the policy; load scripts from files on "
    "the site instead of data: or any-host URLs",
    "plain-wildcard": "replace the wildcard in the policy with the exact hosts the site uses",
    "missing-directives": "give the policy object-src 'none' and base-uri 'none' (or 'self'), "
    "as the strict preset does",
}


def _evaluator_report(fitted: FittedPolicy) -> dict[str, Any]:
    """Google's CSP Evaluator on the fitted CSPs: counts by severity, each finding once with
    the CSPs it is in, the high ones with a fix."""
    findings: dict[tuple[Any, ...], dict[str, Any]] = {}
    for evaluated in fitted.evaluated:
        for finding in evaluated.findings:
            key = (finding.severity, finding.type, finding.directive, finding.value or "")
            entry = findings.setdefault(key, {**finding.to_dict(), "where": []})
            entry["where"].append(evaluated.where)
    # Where the site brought a flagged source in (file:line), so the fix can start there.
    found_at: dict[tuple[str, str], list[str]] = {}
    for _page, directive, source, reasons in fitted.result.reasons():
        places = found_at.setdefault((directive, source), [])
        places.extend(r.location for r in reasons if r.location and r.location not in places)
    ordered = [findings[k] for k in sorted(findings)]
    by_severity: dict[str, int] = {}
    for entry in ordered:
        by_severity[entry["severity"]] = by_severity.get(entry["severity"], 0) + 1
    high = [f for f in ordered if f["severity"] == "high"]
    for entry in high:
        entry["fix"] = _HIGH_FIXES.get(entry["type"], "see docs/csp.md")
        entry["found_at"] = found_at.get((entry["directive"], entry["value"] or ""), [])
    return {
        "csps_evaluated": [e.where for e in fitted.evaluated],
        "high": len(high),
        "by_severity": by_severity,
        "findings": ordered,
    }


def _print_evaluator(report: dict[str, Any]) -> None:
    counts = ", ".join(f"{n} {label}" for label, n in report["by_severity"].items())
    out.print(
        f"\nGoogle's CSP Evaluator on the fitted CSP ({len(report['csps_evaluated'])} evaluated):"
        f" {counts or 'no findings'} (all of them with --json)",
        markup=False,
    )
    out.print(f"high-severity findings: {report['high']}", markup=False)
    for item in report["findings"]:
        if item["severity"] != "high":
            continue
        value = f" {item['value']}" if item["value"] else ""
        out.print(
            f"  {item['directive']}{_clean(value, 200)}: {_clean(item['description'], 300)}"
            f" [{_locations(item['where'])}]",
            markup=False,
        )
        if item["found_at"]:
            out.print(f"    from {_locations(item['found_at'])}", markup=False)
        out.print(
            f"    fix: {item['fix']}",
            markup=False,
        )


def _report(fitted: FittedPolicy) -> dict[str, Any]:
    """What was added and why, grouped as the user reads it."""
    result = fitted.result
    hashed: dict[str, dict[str, Any]] = {}
    unsafe_hashes: dict[str, dict[str, Any]] = {}
    hosts: dict[str, dict[str, Any]] = {}
    schemes: dict[str, dict[str, Any]] = {}
    for _page, directive, source, reasons in result.reasons():
        if source.startswith("'sha"):
            for reason in reasons:
                if not reason.attribute:
                    continue
                group = unsafe_hashes.setdefault(
                    f"{directive} {source}",
                    {
                        "directive": directive,
                        "source": source,
                        "what": reason.why,
                        "code": reason.code,
                        "locations": [],
                    },
                )
                group["locations"].append(reason.location)
            entry = hashed.setdefault(
                f"{directive} {source}",
                {"directive": directive, "source": source, "what": reasons[0].why, "locations": []},
            )
            entry["locations"].extend(r.location for r in reasons if r.location)
        elif "://" in source:
            entry = hosts.setdefault(source, {"source": source, "directives": [], "locations": []})
            if directive not in entry["directives"]:
                entry["directives"].append(directive)
            entry["locations"].extend(f"{r.location} ({r.why})" for r in reasons if r.location)
        elif source.endswith(":"):
            key = f"{directive} {source}"
            entry = schemes.setdefault(
                key, {"directive": directive, "source": source, "locations": []}
            )
            entry["locations"].extend(f"{r.location} ({r.why})" for r in reasons if r.location)
    chosen = fitted.plan
    return {
        "pages": len(result.files),
        "mode": chosen.mode,
        "union_bytes": chosen.union_bytes,
        "largest_header_bytes": chosen.largest_bytes,
        "largest_header_page": chosen.largest_page,
        "pages_with_own_sources": len(chosen.pages),
        "fitted": chosen.fitted,
        # Shared hashes first (most pages), then each page's own, in page order.
        "hashed": sorted(hashed.values(), key=lambda h: (-len(h["locations"]), h["locations"][:1])),
        "unsafe_hashes": sorted(
            unsafe_hashes.values(), key=lambda u: (u["locations"][:1], u["source"])
        ),
        "hosts": list(hosts.values()),
        "schemes": list(schemes.values()),
        "dropped_for_unsafe_inline": chosen.dropped,
        "warnings": result.warnings,
        "evaluator": _evaluator_report(fitted),
    }


def _print_report(report: dict[str, Any]) -> None:
    out.print(f"Read {report['pages']} HTML pages.", markup=False)
    if report["hashed"]:
        out.print("\nHashed (inline code, allowed by its exact text):")
        for item in report["hashed"][:_SHOWN_HASHES]:
            out.print(
                f"  {item['directive']:10} {item['source']}  {_clean(item['what'])}: "
                f"{_locations(item['locations'])}",
                markup=False,
            )
        if len(report["hashed"]) > _SHOWN_HASHES:
            more = len(report["hashed"]) - _SHOWN_HASHES
            out.print(f"  … and {more} more (all of them with --json)", markup=False)
    if report["unsafe_hashes"]:
        out.print(
            "\n'unsafe-hashes' is needed by these attributes and URLs; move each into a script or"
            " stylesheet file to drop it (docs/csp.md):"
        )
        for item in report["unsafe_hashes"]:
            out.print(
                f'  {_clean(item["what"])} "{_clean(item["code"], 60)}" -> {item["source"]}'
                f" at {_locations(item['locations'])}",
                markup=False,
            )
    if report["hosts"]:
        out.print(
            "\nHosts added (exact scheme and host; the file itself on hosts with known CSP bypasses):"
        )
        for item in report["hosts"]:
            out.print(
                f"  {_clean(item['source'])} in {', '.join(item['directives'])}: "
                f"{_locations(item['locations'])}",
                markup=False,
            )
    for item in report["schemes"]:
        out.print(
            f"\n{item['source']} added to {item['directive']}: {_locations(item['locations'])}",
            markup=False,
        )
    for directive, sources in report["dropped_for_unsafe_inline"].items():
        if sources:
            out.print(
                f"\n{len(sources)} hash(es) left out of {directive}: it has 'unsafe-inline', which"
                " browsers ignore as soon as a hash is present.",
                markup=False,
            )
    if report["warnings"]:
        out.print("\nWarnings:")
        for warning in report["warnings"]:
            out.print(f"  {_clean(warning, 500)}", markup=False)


@csp_app.command()
def fit(
    origin: Annotated[
        Path, typer.Option("--origin", help="The site folder (what the S3 origin serves)")
    ],
    policy: PolicyOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write (default: the policy file)"),
    ] = None,
    mode: Annotated[
        FitMode,
        typer.Option(help="union: one CSP; per-page: a manifest; auto: per-page when too large"),
    ] = FitMode.auto,
    max_union: Annotated[
        int, typer.Option(help="auto: the largest union CSP (bytes) kept as one policy")
    ] = 4096,
    site_url: Annotated[
        list[str] | None,
        typer.Option(
            help="The site's own origin (https://example.com): absolute links to it are 'self'. Repeatable"
        ),
    ] = None,
    unsafe_inline: Annotated[
        list[InlineKind] | None,
        typer.Option(
            "--unsafe-inline",
            help="Allow all inline script or style instead of hashes (lowers the grade). Repeatable",
        ),
    ] = None,
    unsafe_eval: Annotated[
        bool, typer.Option("--unsafe-eval", help="Allow eval() (lowers the grade)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    crawl: Annotated[
        bool,
        typer.Option(
            "--crawl",
            help="Also load the site in Chromium (report-only, search and clicks) for code "
            "created at run time",
        ),
    ] = False,
    crawl_pages: Annotated[int, typer.Option(min=1, help="--crawl: at most this many pages")] = 30,
    crawl_seconds: Annotated[
        float, typer.Option(min=5, help="--crawl: at most this many seconds")
    ] = 90.0,
) -> None:
    """Fit the policy's CSP to a static site: hashes for inline code, exact hosts, data: where used.

    Writes the policy with a \\[headers.content-security-policy.fitted] table (replaced on every
    run) and, when the CSP is per page, a manifest next to it. Exit 2 on bad input."""
    from edgeshield.cli.options import resolve_policy as _resolve_policy
    from edgeshield.csp import FitOptions, PolicyEditError, fit_policy
    from edgeshield.policy.csp_pages import FORMAT
    from edgeshield.policy.presets import preset_text

    if not origin.is_dir():
        fail(f"--origin {origin}: not a directory", EXIT_USAGE)
    if max_union < 256:
        fail(f"--max-union {max_union}: use at least 256 bytes", EXIT_USAGE)
    source = _resolve_policy(policy)
    target = output or source or DEFAULT_POLICY_FILE
    try:
        text = source.read_text(encoding="utf-8") if source else preset_text("strict")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {source}: {exc}", EXIT_USAGE)
    origins = []
    for url in site_url or []:
        from edgeshield.csp.sources import resolve

        resolved = resolve(url)
        if resolved.source is None or "://" not in resolved.source:
            fail(f"--site-url {url!r}: give an origin like https://example.com", EXIT_USAGE)
        origins.append(resolved.source)
    manifest = target.with_name(target.stem + ".csp-pages.json")
    options = FitOptions(
        mode=mode.value,
        max_union=max_union,
        unsafe_inline=frozenset(k.value for k in unsafe_inline or []),
        unsafe_eval=unsafe_eval,
    )
    crawled = None
    try:
        result = None
        if crawl:
            from edgeshield.csp.browser import BrowserMissing, EdgeStartError
            from edgeshield.csp.crawl import CrawlLimits, crawl_fit

            limits = CrawlLimits(max_pages=crawl_pages, seconds=crawl_seconds)
            try:
                result, crawled = crawl_fit(origin, text, options, origins, limits)
            except (BrowserMissing, EdgeStartError) as exc:
                fail(f"--crawl: {exc}", EXIT_USAGE)
        fitted = fit_policy(origin, text, options, manifest.name, origins, result)
    except PolicyEditError as exc:
        fail(f"{source or '<preset strict>'}: {exc}", EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot read the site: {exc}", EXIT_USAGE)

    report = _report(fitted)
    uri = next(iter(fitted.plan.pages), "/index.html")
    try:
        report["grade"], report["score"] = _grade_of(
            fitted.policy_text, fitted.manifest_text, manifest, uri
        )
        if options.unsafe_inline or options.unsafe_eval:
            strict = fit_policy(
                origin,
                text,
                FitOptions(mode.value, max_union),
                manifest.name,
                origins,
                fitted.result,
            )
            report["grade_without_unsafe"], report["score_without_unsafe"] = _grade_of(
                strict.policy_text, strict.manifest_text, manifest, uri
            )
    except ValueError as exc:
        fail(f"{source or '<preset strict>'}: the fitted policy is not valid: {exc}", EXIT_USAGE)

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # The manifest first: a running `serve` reloads when the policy file changes.
        if fitted.manifest_text is not None:
            manifest.write_text(fitted.manifest_text, encoding="utf-8")
        target.write_text(fitted.policy_text, encoding="utf-8")
        if (
            fitted.manifest_text is None
            and manifest.is_file()
            and manifest.read_text(encoding="utf-8").startswith(
                f'{{"format": {FORMAT}, "index-document"'
            )
        ):
            manifest.unlink()  # an earlier per-page run's manifest, no longer referenced
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror}", EXIT_USAGE)
    report["policy"] = str(target)
    report["manifest"] = str(manifest) if fitted.manifest_text is not None else None
    if crawled is not None:
        report["crawl"] = crawled.to_dict()

    if as_json:
        print_json(report)
        return
    _print_report(report)
    if crawled is not None:
        from edgeshield.csp.crawl import describe

        for line in describe(crawled):
            out.print(_clean(line, 400), markup=False)
    out.print()
    if report["mode"] == "union":
        out.print(f"One CSP for every page ({report['union_bytes']:,} bytes).", markup=False)
    else:
        out.print(
            f"Per-page CSP: the union would be {report['union_bytes']:,} bytes; "
            f"{report['pages_with_own_sources']} pages carry their own hashes in {manifest}.",
            markup=False,
        )
    out.print(
        f"Largest CSP header any page gets: {report['largest_header_bytes']:,} bytes "
        f"({_clean(report['largest_header_page'])}).",
        markup=False,
    )
    if report["largest_header_bytes"] > 8192:
        err.print(
            "warning: a CSP header above 8 KB is refused by some proxies and servers; "
            "move inline code into files to shrink it",
            markup=False,
        )
    grade_line = f"Grade on an HTML page: {report['grade']} ({report['score']})"
    if "grade_without_unsafe" in report:
        grade_line += (
            f"; with hashes instead of 'unsafe-inline'/'unsafe-eval' it would be "
            f"{report['grade_without_unsafe']} ({report['score_without_unsafe']})"
        )
    out.print(grade_line, markup=False)
    _print_evaluator(report["evaluator"])
    out.print(
        f"wrote {target}"
        + (f" and {manifest}" if report["manifest"] else "")
        + f"; next: edgeshield check --grade {target}, then edgeshield bundle --policy {target}",
        markup=False,
    )
