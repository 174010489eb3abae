"""``edgeshield csp verify``: every page in Chromium through a local edge, exit 1 on any CSP
violation. A thin skin over ``edgeshield.csp.verify.verify_site``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.markup import escape
from rich.table import Table

from edgeshield.cli.app import EXIT_FAILURE, EXIT_USAGE
from edgeshield.cli.console import fail, out, print_json
from edgeshield.cli.csp_cmds import csp_app
from edgeshield.cli.options import JsonFlag, PolicyOption, with_json


class Format(StrEnum):
    table = "table"
    json = "json"


# What a script-src refusal of code from strings needs (CSP3: "eval" and "wasm-eval" are what
# Chromium reports as the blocked URI; https://www.w3.org/TR/CSP3/#violation-url).
_EVAL_FIXES: Final = {
    "eval": "'unsafe-eval' (or remove the eval)",
    "wasm-eval": "'wasm-unsafe-eval'",
}


def _clean(text: str, limit: int = 160) -> str:
    """Browser-reported text (URLs, samples) on a terminal: control characters escaped, cut."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


@csp_app.command()
def verify(
    origin: Annotated[
        Path, typer.Option("--origin", help="The site folder (what the S3 origin serves)")
    ],
    policy: PolicyOption = None,
    pages: Annotated[
        int | None,
        typer.Option("--pages", min=1, help="Check only the first N pages (index first)"),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="table, or json for machines")
    ] = Format.table,
    as_json: JsonFlag = False,
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=16, help="Pages loaded at once")] = 4,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds a page may take to load")
    ] = 15.0,
) -> None:
    """Load every HTML page in Chromium through a local edge that enforces the policy.

    Exit 0 when no page has a CSP violation, 1 when one does (each listed with its page,
    directive, blocked resource and source location), 2 on bad input or no Chromium."""
    from edgeshield.cli.options import resolve_policy as _resolve_policy
    from edgeshield.csp.browser import BrowserMissing, EdgeStartError
    from edgeshield.csp.verify import html_pages, verify_site

    if not origin.is_dir():
        fail(f"--origin {origin}: not a directory", EXIT_USAGE)
    output_format = with_json(output_format, as_json, Format.table, Format.json)
    source = _resolve_policy(policy)
    if source is not None and not source.is_file():
        fail(f"--policy {source}: no such file", EXIT_USAGE)
    if not html_pages(origin):
        fail(f"--origin {origin}: no HTML pages (*.html, *.htm) to load", EXIT_USAGE)
    try:
        report = verify_site(origin, source, pages=pages, jobs=jobs, timeout_ms=timeout * 1000)
    except (BrowserMissing, EdgeStartError) as exc:
        fail(str(exc), EXIT_USAGE)

    if output_format is Format.json:
        print_json(report.to_dict())
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)


def _print(report: object) -> None:
    from edgeshield.csp.verify import VerifyReport

    assert isinstance(report, VerifyReport)
    checked = len(report.pages)
    scope = f"{checked} of {report.total_pages}" if checked != report.total_pages else str(checked)
    if report.violations:
        table = Table(title="CSP violations", title_justify="left")
        for column in ("page", "directive", "blocked", "source", "fix"):
            table.add_column(column, overflow="fold")
        for v in report.violations:
            hashes = v.hashes()
            fix = _EVAL_FIXES.get(v.blocked, "")
            if hashes:
                attr = v.directive.endswith("-attr") or bool(v.urls)
                fix = ("'unsafe-hashes' " if attr else "") + " ".join(hashes[:2])
                if len(hashes) > 2:
                    fix += f" (+{len(hashes) - 2})"
            where = v.source or (f"<{v.element}>" if v.element else "")
            table.add_row(
                *(escape(_clean(x)) for x in (v.page, v.directive, v.blocked, where, fix))
            )
        out.print(table)
    for error in report.errors:
        out.print(f"page not checked: {_clean(error.page)}: {_clean(error.message)}", markup=False)
    verdict = "OK" if report.ok else "FAILED"
    out.print(
        f"{verdict}: {len(report.violations)} violation(s) on {scope} page(s) under "
        f"{_clean(report.policy)} in {report.seconds:.1f} s "
        f"({report.pages_per_second:.1f} pages/s)",
        markup=False,
    )
    if report.violations:
        out.print(
            "Fit the CSP to the site with `edgeshield csp fit --origin DIR` (add --crawl for "
            "code created at run time), then verify again.",
            markup=False,
        )
    if any(v.blocked in _EVAL_FIXES for v in report.violations):
        out.print(
            "fit adds 'wasm-unsafe-eval' when the site's JavaScript compiles WebAssembly, and "
            "never 'unsafe-eval' on its own (csp fit --unsafe-eval asks for it): eval and "
            "new Function are better removed from the code",
            markup=False,
        )
