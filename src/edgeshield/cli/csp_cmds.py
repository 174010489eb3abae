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
    from edgeshield.csp.fit_run import FitRun

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
        for item in report["unsafe_hashes"][:_SHOWN_HASHES]:
            out.print(
                f'  {_clean(item["what"])} "{_clean(item["code"], 60)}" -> {item["source"]}'
                f" at {_locations(item['locations'])}",
                markup=False,
            )
        if len(report["unsafe_hashes"]) > _SHOWN_HASHES:
            more = len(report["unsafe_hashes"]) - _SHOWN_HASHES
            out.print(f"  … and {more} more (all of them with --json)", markup=False)
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


# The options of `fit`, declared once each so the command reads as a list of names.
_OriginOpt = Annotated[
    Path, typer.Option("--origin", help="The site folder (what the S3 origin serves)")
]
_OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Where to write (default: the policy file)"),
]
_ModeOpt = Annotated[
    FitMode,
    typer.Option(help="union: one CSP; per-page: a manifest; auto: per-page when too large"),
]
_MaxUnionOpt = Annotated[
    int, typer.Option(help="auto: the largest union CSP (bytes) kept as one policy")
]
_SiteUrlOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="The site's own origin (https://example.com): absolute links to it are 'self'. Repeatable"
    ),
]
_UnsafeInlineOpt = Annotated[
    list[InlineKind] | None,
    typer.Option(
        "--unsafe-inline",
        help="Allow all inline script or style instead of hashes (lowers the grade). Repeatable",
    ),
]
_UnsafeEvalOpt = Annotated[
    bool, typer.Option("--unsafe-eval", help="Allow eval() (lowers the grade)")
]
_AsJsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
_CrawlOpt = Annotated[
    bool,
    typer.Option(
        "--crawl",
        help="Also load the site in Chromium (report-only, search and clicks) for code "
        "created at run time",
    ),
]
_CrawlPagesOpt = Annotated[int, typer.Option(min=1, help="--crawl: at most this many pages")]
_CrawlSecondsOpt = Annotated[float, typer.Option(min=5, help="--crawl: at most this many seconds")]


@csp_app.command()
def fit(
    origin: _OriginOpt,
    policy: PolicyOption = None,
    output: _OutputOpt = None,
    mode: _ModeOpt = FitMode.auto,
    max_union: _MaxUnionOpt = 4096,
    site_url: _SiteUrlOpt = None,
    unsafe_inline: _UnsafeInlineOpt = None,
    unsafe_eval: _UnsafeEvalOpt = False,
    as_json: _AsJsonOpt = False,
    crawl: _CrawlOpt = False,
    crawl_pages: _CrawlPagesOpt = 30,
    crawl_seconds: _CrawlSecondsOpt = 90.0,
) -> None:
    """Fit the policy's CSP to a static site: hashes for inline code, exact hosts, data: where used.

    Writes the policy with a \\[headers.content-security-policy.fitted] table (replaced on every
    run) and, when the CSP is per page, a manifest next to it. Exit 2 on bad input."""
    from edgeshield.cli.options import resolve_policy as _resolve_policy
    from edgeshield.csp import FitOptions
    from edgeshield.csp.crawl import CrawlLimits
    from edgeshield.csp.fit_run import FitError, FitJob, FitOptionError, run_fit, write_fit

    source = _resolve_policy(policy)
    options = FitOptions(
        mode=mode.value,
        max_union=max_union,
        unsafe_inline=frozenset(k.value for k in unsafe_inline or []),
        unsafe_eval=unsafe_eval,
    )
    limits = CrawlLimits(max_pages=crawl_pages, seconds=crawl_seconds) if crawl else None
    job = FitJob(
        origin, source, output or source or DEFAULT_POLICY_FILE, options, site_url or (), limits
    )
    try:
        run = run_fit(job)
        report = run.report()
        _grade(run, report)
        write_fit(run)
    except FitOptionError as exc:
        fail(
            exc.render(lambda name: _FIT_FLAGS.get(name, "--" + name.replace("_", "-"))), EXIT_USAGE
        )
    except FitError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        print_json(report)
        return
    _print_report(report)
    if run.crawled is not None:
        from edgeshield.csp.crawl import describe

        for line in describe(run.crawled):
            out.print(_clean(line, 400), markup=False)
    _print_summary(report, job.manifest)


_FIT_FLAGS = {"site_urls": "--site-url"}  # FitJob fields whose flag is not named alike


def _grade(run: FitRun, report: dict[str, Any]) -> None:
    """The Observatory grade of an HTML page under the fitted policy (and, when the user asked
    for 'unsafe-inline' or 'unsafe-eval', under the same fit with hashes instead)."""
    from edgeshield.csp.fit_run import FitError

    manifest = run.job.manifest
    uri = next(iter(run.fitted.plan.pages), "/index.html")
    try:
        fitted = run.fitted
        report["grade"], report["score"] = _grade_of(
            fitted.policy_text, fitted.manifest_text, manifest, uri
        )
        if run.strict is not None:
            strict = run.strict
            report["grade_without_unsafe"], report["score_without_unsafe"] = _grade_of(
                strict.policy_text, strict.manifest_text, manifest, uri
            )
    except ValueError as exc:
        raise FitError(f"{run.job.policy_label}: the fitted policy is not valid: {exc}") from None


def _print_summary(report: dict[str, Any], manifest: Path) -> None:
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
    target = report["policy"]
    out.print(
        f"wrote {target}"
        + (f" and {manifest}" if report["manifest"] else "")
        + f"; next: edgeshield check --grade {target}, then edgeshield bundle --policy {target}",
        markup=False,
    )
