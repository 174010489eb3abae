"""One self-contained HTML page for a set of graded scans: inline CSS, no external resources."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any, Final

from edgeshield.grade.scoring.fixes import merged_toml
from edgeshield.grade.scoring.report import Report
from edgeshield.grade.scoring.results import ALGORITHM_VERSION

_CSS: Final = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:70rem;
color:#1d1d1f;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.5rem;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f6}
.grade{display:inline-block;min-width:2.6rem;text-align:center;border-radius:.4rem;padding:.1rem .4rem;
font-weight:700;color:#fff}
.gA{background:#1a7f37}.gB{background:#4d7c0f}.gC{background:#b7791f}.gD{background:#c2410c}
.gF{background:#b91c1c}
.pos{color:#1a7f37}.neg{color:#b91c1c}.fail{color:#b91c1c;font-weight:600}
.assumed{color:#6b7280;font-size:.85em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
pre{background:#f6f8fa;padding:.75rem;border-radius:.4rem;overflow-x:auto}
.err{color:#b91c1c}
"""


def _grade_badge(grade: str) -> str:
    return f'<span class="grade g{escape(grade[0])}">{escape(grade)}</span>'


def _modifier(m: int) -> str:
    if m > 0:
        return f'<span class="pos">+{m}</span>'
    if m < 0:
        return f'<span class="neg">{m}</span>'
    return "0"


def _site(report: Report, anchor: str) -> str:
    d = report.to_dict()
    rows: list[str] = []
    fixes: list[str] = []
    for t in d["tests"].values():
        passed = "yes" if t["pass"] else '<span class="fail">no</span>'
        note = f'<div class="assumed">{escape(t["assumed"])}</div>' if "assumed" in t else ""
        rows.append(
            f"<tr><td>{escape(t['title'])}</td><td><code>{escape(t['result'])}</code>"
            f"<div>{escape(t['description'])}</div>{note}</td>"
            f"<td>{_modifier(t['score_modifier'])}</td><td>{passed}</td></tr>"
        )
        if "fix" in t:
            fixes.append(f"<li><b>{escape(t['title'])}</b>: {escape(t['fix']['summary'])}</li>")
    toml = merged_toml([(o.name, o.result) for o in report.outcomes if report.short_of_best(o)])
    snippet = (
        f"<p>Policy snippet for <code>edgeshield.toml</code>:</p><pre>{escape(toml)}</pre>"
        if toml
        else ""
    )
    fix_block = f"<h3>How to improve</h3><ul>{''.join(fixes)}</ul>{snippet}" if fixes else ""
    mode = " (header-only)" if report.header_only else ""
    return (
        f'<section id="{anchor}"><h2>{_grade_badge(report.grade)} {escape(report.url)}</h2>'
        f"<p>Score <b>{report.score}</b>{mode}, {d['tests_passed']}/{d['tests_quantity']} "
        f"tests passed.</p><table><thead><tr><th>Test</th><th>Result</th><th>Score</th>"
        f"<th>Pass</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{fix_block}</section>"
    )


def render_html(results: Sequence[Any], title: str = "edgeshield scan") -> str:
    """``results``: Reports and failures (objects with ``url`` and ``message``), in order."""
    summary: list[str] = []
    sections: list[str] = []
    for i, r in enumerate(results):
        anchor = f"site-{i + 1}"
        if isinstance(r, Report):
            summary.append(
                f'<tr><td><a href="#{anchor}">{escape(r.url)}</a></td>'
                f"<td>{_grade_badge(r.grade)}</td><td>{r.score}</td></tr>"
            )
            sections.append(_site(r, anchor))
        else:
            summary.append(
                f"<tr><td>{escape(str(r.url))}</td><td colspan=2 class=err>"
                f"{escape(str(r.message))}</td></tr>"
            )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>Graded with the MDN HTTP Observatory's rules "
        f"(algorithm v{ALGORITHM_VERSION}) on {when}.</p>"
        "<table><thead><tr><th>Site</th><th>Grade</th><th>Score</th></tr></thead>"
        f"<tbody>{''.join(summary)}</tbody></table>{''.join(sections)}</body></html>\n"
    )
