"""The "CSP Evaluator" section of ``edgeshield check``: Google's CSP Evaluator findings for
every CSP the policy sends, beside the Observatory grade.

Compact by default: one line per CSP header with the count per severity, then the findings
that matter (high, syntax, medium, possible high/medium) one short line each, worst first; the
strict-CSP advice and informational notes only as counts. ``--grade`` lists every finding with
its explanation. A high-severity
finding (injected markup could run script) is called out in red.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from edgeshield.cli.console import out
from edgeshield.csp.evaluator import HeaderFindings, Severity
from edgeshield.policy.problems import printable

# Shown one per line in the compact view; the rest are counted.
_LISTED = {Severity.HIGH, Severity.SYNTAX, Severity.MEDIUM, Severity.HIGH_MAYBE,
           Severity.MEDIUM_MAYBE}  # fmt: skip
_STYLE = {Severity.HIGH: "bold red", Severity.SYNTAX: "red", Severity.MEDIUM: "yellow",
          Severity.HIGH_MAYBE: "yellow", Severity.MEDIUM_MAYBE: "yellow"}  # fmt: skip


def _style(style: str) -> str:
    return style if out.is_terminal else ""


def summary(results: list[HeaderFindings]) -> dict[str, Any]:
    """Counts per severity over every CSP (ignored-source notes left out), for JSON and tests."""
    counts: dict[str, int] = {}
    for result in results:
        for f in result.findings:
            if f.severity != Severity.NONE:
                counts[f.severity.label] = counts.get(f.severity.label, 0) + 1
    return {"high": counts.get("high", 0), "by_severity": counts}


def to_json(results: list[HeaderFindings]) -> dict[str, Any]:
    return {
        "version": "CSP3",
        **summary(results),
        "policies": [r.to_dict() for r in results],
    }


def _counts(result: HeaderFindings) -> str:
    counts: dict[Severity, int] = {}
    for f in result.findings:
        if f.severity != Severity.NONE:
            counts[f.severity] = counts.get(f.severity, 0) + 1
    if not counts:
        return "no findings"
    return ", ".join(f"{n} {sev.label}" for sev, n in sorted(counts.items()))


def section(results: list[HeaderFindings], every: bool = False) -> RenderableType:
    """The section as one renderable; ``every`` lists all findings, not only the serious."""
    parts: list[RenderableType] = []
    high = sum(f.severity == Severity.HIGH for r in results for f in r.findings)
    title = Text("CSP Evaluator (Google's checks, as a CSP3 browser enforces the policy)")
    if not results:
        missing = Text("The policy sends no Content-Security-Policy.", style=_style("bold red"))
        return Group(title, missing)
    parts.append(title)
    if high:
        parts.append(
            Text(
                f"{high} high-severity finding{'s' if high != 1 else ''}: "
                "injected markup could run script despite this CSP",
                style=_style("bold red"),
            )
        )
    for result in results:
        # The console does not wrap (soft_wrap): keep the line within 80 columns ourselves.
        name, counts = f"{result.header} ({printable(result.where)})", _counts(result)
        header = Text(name, style=_style("bold"))
        header.append(f": {counts}" if len(name) + len(counts) + 2 <= 80 else f"\n  {counts}")
        parts.append(header)
        table = Table(box=box.SIMPLE, show_header=False, show_edge=False, pad_edge=False)
        table.add_column("severity", no_wrap=True)
        table.add_column("where", overflow="fold", max_width=40)
        table.add_column("finding", overflow="fold")
        hidden = 0
        for f in sorted(result.findings, key=lambda f: f.severity):
            if f.severity == Severity.NONE or (not every and f.severity not in _LISTED):
                hidden += f.severity != Severity.NONE
                continue
            where = f.directive + (f" {f.value}" if f.value is not None else "")
            # Text, not str: directives and sources are user data, never markup.
            table.add_row(
                Text(f.severity.label, style=_style(_STYLE.get(f.severity, "dim"))),
                Text(printable(where)),
                Text(printable(f.description if every else f.type.title)),
            )
        if table.row_count:
            parts.append(table)
        if hidden:
            parts.append(
                Text(
                    f"  + {hidden} strict-CSP/info note{'s' if hidden != 1 else ''} "
                    "(--grade lists every finding with its reason)",
                    style=_style("dim"),
                )
            )
    return Group(*parts)
