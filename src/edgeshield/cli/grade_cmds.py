"""Grading commands: ``grade`` (offline, from a headers file) and ``scan`` (live sites)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edgeshield import jsontext
from edgeshield.cli.app import EXIT_FAILURE, EXIT_USAGE, app
from edgeshield.cli.console import err, fail, out, print_json
from edgeshield.cli.options import JsonFlag, with_json

if TYPE_CHECKING:
    from edgeshield.grade.parse.headers import Headers
    from edgeshield.grade.scan.scanner import ScanFailed, ScanOptions, ScanResult
    from edgeshield.grade.scoring.report import Report


class GradeFormat(StrEnum):
    table = "table"
    json = "json"


class ScanFormat(StrEnum):
    table = "table"
    json = "json"
    html = "html"


def _check_min_grade(min_grade: str | None) -> str | None:
    from edgeshield.grade import GRADES

    if min_grade is None:
        return None
    grade = min_grade.strip().upper()
    if grade not in GRADES:
        fail(
            f"--min-grade {min_grade!r} is not a grade; use one of: {', '.join(GRADES)}", EXIT_USAGE
        )
    return grade


def _below(grade: str, min_grade: str | None) -> bool:
    from edgeshield.grade import grade_rank

    return min_grade is not None and grade_rank(grade) > grade_rank(min_grade)


def _load_headers(path: Path) -> dict[str, Any] | Headers:
    """Read a JSON object of headers, or a ``curl -sI`` dump; one clear message per mistake."""
    from edgeshield.grade.parse.headers import Headers, parse_header_block

    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except FileNotFoundError:
        fail(f"{path}: no such file", EXIT_USAGE)
    except OSError as exc:
        fail(f"{path}: cannot read it ({exc})", EXIT_USAGE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # HTTP header bytes outside ASCII are ISO-8859-1 (RFC 9110 §5.5): a curl -sI dump of
        # a legal response may hold them. JSON is UTF-8 (RFC 8259), so not there.
        text = raw.decode("latin-1")
        if text.lstrip().startswith(("{", "[", '"')):
            fail(f"{path}: cannot read it (JSON must be UTF-8: {exc})", EXIT_USAGE)
    if not text.lstrip().startswith(("{", "[", '"')):
        pairs = parse_header_block(text)
        if pairs is not None:
            return Headers.from_pairs(pairs)
    try:
        data = jsontext.loads(text)
    except json.JSONDecodeError as exc:
        fail(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}) "
            "and not 'Name: value' header lines either",
            EXIT_USAGE,
        )
    if isinstance(data, dict) and isinstance(data.get("headers"), dict):
        data = data["headers"]  # also accept {"headers": {...}} (e.g. a conformance case)
    if not isinstance(data, dict):
        fail(f"{path}: expected a JSON object mapping header names to values", EXIT_USAGE)
    for name, value in data.items():
        ok = isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        if not ok:
            fail(
                f"{path}: header {name!r} must be a string or a list of strings "
                "(a list is a repeated header line)",
                EXIT_USAGE,
            )
    return data


def _print_table(report: Report) -> None:
    from rich.table import Table

    from edgeshield.grade.scoring.fixes import merged_toml

    d = report.to_dict()
    table = Table(title=f"{report.url}", title_justify="left", show_lines=False)
    table.add_column("Test")
    table.add_column("Result", overflow="fold")
    table.add_column("Score", justify="right")
    table.add_column("Pass")
    for t in d["tests"].values():
        m = t["score_modifier"]
        score = f"[green]+{m}[/]" if m > 0 else (f"[red]{m}[/]" if m < 0 else "0")
        result = t["result"] + (" [dim](assumed)[/]" if "assumed" in t else "")
        table.add_row(t["title"], result, score, "yes" if t["pass"] else "[red]no[/]")
    out.print(table)
    colour = {"A": "green", "B": "yellow", "C": "yellow"}.get(report.grade[0], "red")
    mode = " (header-only)" if report.header_only else ""
    out.print(
        f"Grade [bold {colour}]{report.grade}[/], score {report.score}{mode}, "
        f"{d['tests_passed']}/{d['tests_quantity']} tests passed"
    )
    assumed = [t["assumed"] for t in d["tests"].values() if "assumed" in t]
    for note in assumed:
        out.print(f"[dim]assumed: {note}[/]")
    fixes = [(t["title"], t["fix"]["summary"]) for t in d["tests"].values() if "fix" in t]
    if fixes:
        out.print("\n[bold]How to improve[/]")
        for title, summary in fixes:
            out.print(f"  - {title}: {summary}")
        toml = merged_toml([(o.name, o.result) for o in report.outcomes if report.short_of_best(o)])
        if toml:
            out.print("\nPolicy snippet for edgeshield.toml:")
            out.print(toml, markup=False, highlight=False)


@app.command(rich_help_panel="Grading")
def grade(
    headers: Annotated[
        Path,
        typer.Option(
            "--headers",
            help='JSON file of response headers {"name": "value" | ["line", ...]}, or the output '
            'of curl -sI ("-" = stdin)',
        ),
    ],
    url: Annotated[
        str, typer.Option(help="The page URL the headers belong to (its scheme and host count)")
    ] = "https://example.com/",
    fmt: Annotated[GradeFormat, typer.Option("--format", help="table or json")] = GradeFormat.table,
    as_json: JsonFlag = False,
    min_grade: Annotated[
        str | None, typer.Option("--min-grade", help="Exit 1 if the grade is below this")
    ] = None,
) -> None:
    """Grade response headers offline with the MDN HTTP Observatory's rules."""
    from edgeshield.grade import grade_headers

    bar = _check_min_grade(min_grade)
    fmt = with_json(fmt, as_json, GradeFormat.table, GradeFormat.json)
    if not url.lower().startswith(("http://", "https://")):
        fail(f"--url {url!r} must start with http:// or https://", EXIT_USAGE)
    report = grade_headers(_load_headers(headers), url=url)
    if fmt is GradeFormat.json:
        print_json(report.to_dict())
    else:
        _print_table(report)
    if _below(report.grade, bar):
        err.print(f"grade {report.grade} is below the required {bar}")
        raise typer.Exit(EXIT_FAILURE)


@app.command(rich_help_panel="Grading")
def scan(
    urls: Annotated[list[str], typer.Argument(help="Sites to scan (host or http(s):// URL)")],
    fmt: Annotated[
        ScanFormat, typer.Option("--format", help="table, json or html")
    ] = ScanFormat.table,
    as_json: JsonFlag = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file")
    ] = None,
    min_grade: Annotated[
        str | None,
        typer.Option("--min-grade", help="Exit 1 if any site grades below this (or fails)"),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Sites scanned at once")] = 4,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds allowed per request")] = 10.0,
    insecure: Annotated[
        bool,
        typer.Option("--insecure", help="Do not verify TLS certificates (grade them as valid)"),
    ] = False,
    ca_file: Annotated[
        Path | None,
        typer.Option("--ca-file", help="Also trust the CA certificates in this PEM file"),
    ] = None,
    http_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port of the http:// side (default 80)")
    ] = None,
    https_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port of the https:// side (default 443)")
    ] = None,
) -> None:
    """Scan live sites like the MDN HTTP Observatory.

    Fetches HTTPS, follows the http->https redirects, sends a CORS preflight, and reads the cookies and the page's scripts."""
    bar = _check_min_grade(min_grade)
    fmt = with_json(fmt, as_json, ScanFormat.table, ScanFormat.json)
    if output is not None and fmt is ScanFormat.table:
        fail("--output needs --format json or html", EXIT_USAGE)
    opts = _scan_options(urls, timeout, ca_file, insecure, http_port, https_port)
    results = _run_scans(urls, opts, concurrency)
    _show_scans(results, fmt, output)
    _scan_verdict(results, fmt, bar)


def _scan_options(
    urls: list[str],
    timeout: float,
    ca_file: Path | None,
    insecure: bool,
    http_port: int | None,
    https_port: int | None,
) -> ScanOptions:
    """The scanner's options, once every target and the CA file are known good (else exit 2)."""
    import ssl

    from edgeshield.grade.scan.scanner import ScanOptions
    from edgeshield.grade.scan.targets import TargetError, parse_target

    for u in urls:
        try:
            parse_target(u, http_port, https_port)
        except TargetError as exc:
            fail(str(exc), EXIT_USAGE)
    if ca_file is not None:
        try:
            ssl.create_default_context().load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            fail(f"--ca-file {ca_file}: not a readable PEM CA bundle ({exc})", EXIT_USAGE)
    return ScanOptions(
        timeout=timeout,
        ca_file=str(ca_file) if ca_file else None,
        insecure=insecure,
        http_port=http_port,
        https_port=https_port,
    )


def _show_scans(results: list[ScanResult], fmt: ScanFormat, output: Path | None) -> None:
    from edgeshield.grade.scan.scanner import ScanFailed

    if fmt is ScanFormat.json:
        payload = [
            r.to_dict() if not isinstance(r, ScanFailed) else {"url": r.url, "error": r.message}
            for r in results
        ]
        _emit(json.dumps(payload, indent=2) + "\n", output)
    elif fmt is ScanFormat.html:
        from edgeshield.grade.scoring.html_report import render_html

        _emit(render_html(results), output)
    else:
        for r in results:
            if isinstance(r, ScanFailed):
                err.print(_failure_line(r), markup=False, highlight=False)
            else:
                _print_table(r)
                out.print()


def _failure_line(failure: ScanFailed) -> str:
    # The reason may quote what the server sent (a status line, a header).
    from edgeshield.safetext import printable

    return f"{printable(failure.url)}: cannot grade: {printable(failure.message, limit=500)}"


def _scan_verdict(results: list[ScanResult], fmt: ScanFormat, bar: str | None) -> None:
    """Exit 1 when a site grades below the bar, or fails with a bar set, or every site fails."""
    from edgeshield.grade.scan.scanner import ScanFailed

    failed = [r for r in results if isinstance(r, ScanFailed)]
    low = [r for r in results if not isinstance(r, ScanFailed) and _below(r.grade, bar)]
    if fmt is not ScanFormat.table:
        for failure in failed:
            err.print(_failure_line(failure), markup=False, highlight=False)
    for report in low:
        err.print(f"{report.url}: grade {report.grade} is below the required {bar}")
    if low or (bar is not None and failed):
        raise typer.Exit(EXIT_FAILURE)
    if failed and len(failed) == len(results):
        raise typer.Exit(EXIT_FAILURE)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", EXIT_USAGE)
    err.print(f"wrote {output}")


def _run_scans(urls: list[str], opts: ScanOptions, concurrency: int) -> list[ScanResult]:
    """Run the scans with a progress bar on a terminal, plain lines when piped."""
    import asyncio

    from edgeshield.grade.scan.scanner import scan_targets

    total = len(urls)
    if total > 1 and err.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
        ) as progress:
            task = progress.add_task("scan", total=total)
            return list(
                asyncio.run(
                    scan_targets(urls, opts, concurrency, lambda _u, _r: progress.advance(task))
                )
            )
    done = [0]

    def report(url: str, result: ScanResult) -> None:
        done[0] += 1
        if total > 1:
            grade = getattr(result, "grade", "error")
            err.print(f"[{done[0]}/{total}] {url} {grade}", markup=False, highlight=False)

    return list(asyncio.run(scan_targets(urls, opts, concurrency, report)))
