"""What ``edgeshield check`` prints: the verdict and grade first, the problems, then one table
of the headers the function sets, showing per sample response only what differs.

Other parts add their findings as extra sections (``render_check(..., sections=[...])``), so
the layout stays in one place. Everything here is plain rich output that reads at 80 columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from edgeshield.cli.console import out
from edgeshield.policy import Problem


@dataclass
class CheckView:
    label: str  # the policy as the user knows it: ./edgeshield.toml, built-in strict preset
    problems: list[Problem]
    valid: bool
    results: list[Any] = field(default_factory=list)  # preview.SampleResult per sample
    grade: dict[str, Any] | None = None  # the Observatory report on the HTML sample
    grade_table: bool = False  # --grade: every test, not only the grade


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def verdict(view: CheckView) -> str:
    """One line: valid or not, how many problems, and the grade it earns."""
    errors = sum(p.severity == "error" for p in view.problems)
    warnings = len(view.problems) - errors
    if not view.valid:
        parts = [_count(errors, "error")] + ([_count(warnings, "warning")] if warnings else [])
        return f"{view.label}: not valid, {', '.join(parts)}"
    line = f"{view.label}: valid" + (f", {_count(warnings, 'warning')}" if warnings else "")
    if view.grade is not None:
        line += f"; Observatory grade {view.grade['grade']} ({view.grade['score']}) on an HTML page"
    return line


def _style(style: str) -> str:
    return style if out.is_terminal else ""


def headers_table(results: list[Any]) -> Table | None:
    """One row per header value the function decides; a value not on every sample says
    where it is (``only on JSON 200``). Headers the origin sent and the policy leaves alone
    are not shown."""
    if not results:
        return None
    names = [r.sample.name for r in results]
    everywhere = len(results)
    per_sample = [
        {key.lower(): (key, value, how) for key, value, how in r.headers} for r in results
    ]
    decided: list[str] = []
    for headers in per_sample:
        for lower, (_key, _value, how) in headers.items():
            if how != "origin" and lower not in decided:
                decided.append(lower)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("header", no_wrap=True, max_width=36)
    table.add_column("value", overflow="fold")
    for lower in decided:
        groups: dict[tuple[str, str], list[str]] = {}
        key = lower
        for name, headers in zip(names, per_sample, strict=True):
            if lower in headers:
                key, value, how = headers[lower]
                shown = value + (" (the origin's, kept)" if how == "origin (kept)" else "")
                shown += " (the origin's)" if how == "origin" else ""
                groups.setdefault((shown, how), []).append(name)
            else:
                groups.setdefault(("not sent", "absent"), []).append(name)
        for (shown, how), where in groups.items():
            cell = Text(shown, style=_style("dim") if how in ("absent", "origin") else "")
            if len(where) != everywhere:
                cell.append("\nonly on " + ", ".join(where), style=_style("italic cyan"))
            # Text, not str: names and values are user data and must never be read as markup.
            table.add_row(Text(key), cell)
    removed: dict[str, list[str]] = {}
    for result in results:
        removed.setdefault(", ".join(result.removed), []).append(result.sample.name)
    for text, where in removed.items():
        if not text:
            continue
        cell = Text(text)
        if len(where) != everywhere:
            cell.append("\nonly on " + ", ".join(where), style=_style("italic cyan"))
        table.add_row(Text("(removed)", style=_style("strike")), cell)
    return table


# A generated or broken file can hold tens of thousands of problems; the first ones say enough.
MAX_PROBLEMS_SHOWN = 100


def render_check(view: CheckView, sections: Sequence[RenderableType] = ()) -> None:
    """Print the whole check report; ``sections`` come last, each as given."""
    out.print(Text(verdict(view), style=_style("bold green" if view.valid else "bold red")))
    for problem in view.problems[:MAX_PROBLEMS_SHOWN]:
        style = "yellow" if problem.severity == "warning" else "red"
        out.print(Text(problem.format(), style=_style(style)))
    if len(view.problems) > MAX_PROBLEMS_SHOWN:
        more = len(view.problems) - MAX_PROBLEMS_SHOWN
        out.print(f"… and {more} more (all of them with --json)", markup=False)
    table = headers_table(view.results) if view.valid else None
    if table is not None:
        samples = " · ".join(f"{r.sample.name} {r.sample.uri}" for r in view.results)
        out.print()
        out.print(Text(f"Headers after the function, on: {samples}"), soft_wrap=False)
        rules = [
            f"{r.sample.name}: " + ", ".join(f'"{name}"' for name in r.rules)
            for r in view.results
            if r.rules
        ]
        if rules:
            out.print(Text("Rules that matched: " + "; ".join(rules)), soft_wrap=False)
        out.print(table)
    if view.grade is not None and view.grade_table:
        out.print(grade_table(view.grade))
        if any(t.get("assumed") for t in view.grade["tests"].values()):
            out.print(
                Text(
                    "* not decidable from headers; assumed as on a well-configured site "
                    "(scan the live site to check)"
                ),
                soft_wrap=False,
            )
    for section in sections:
        out.print()
        out.print(section)


def grade_table(report: dict[str, Any]) -> Table:
    table = Table(
        title=f"Observatory grade on an HTML 200 response: {report['grade']} ({report['score']})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    table.add_column("test", no_wrap=True)
    table.add_column("result", overflow="fold")
    table.add_column("score", justify="right")
    table.add_column("pass")
    for name, test in report["tests"].items():
        modifier = test["score_modifier"]
        table.add_row(
            name + ("*" if test.get("assumed") else ""),
            test["result"],
            f"{modifier:+d}" if modifier else "0",
            "yes" if test["pass"] else "no",
        )
    return table
