"""`edgeshield check` shows Google's CSP Evaluator findings beside the Observatory grade, in
the text report and in --json, run as the user runs it (the installed console script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))

WEAK = """
[headers.content-security-policy]
mode = "report-only"
[headers.content-security-policy.directives]
default-src = ["'self'"]
script-src = ["'self'", "'unsafe-inline'", "https://www.google.com"]
report-uri = ["/r"]

[[rules]]
name = "[bold]docs[/bold]"
match.path = ["/docs/*"]
[rules.set.content-security-policy.directives]
default-src = ["'self'"]
object-src = ["'none'"]
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDGESHIELD, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_strict_preset_has_no_high_severity_finding(tmp_path: Path) -> None:
    result = run("check", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    evaluator = json.loads(result.stdout)["csp_evaluator"]
    assert evaluator["high"] == 0
    [csp] = evaluator["policies"]
    assert csp["header"] == "content-security-policy" and csp["report_only"] is False
    assert {f["type"] for f in csp["findings"]} >= {"script-allowlist-bypass"}  # 'self'

    text = run("check", cwd=tmp_path).stdout
    assert "CSP Evaluator" in text
    assert "high-severity" not in text
    assert "content-security-policy (headers): 1 medium-maybe, 1 info" in text


def test_high_severity_findings_are_called_out(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(WEAK)
    result = run("check", "-p", "p.toml", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "2 high-severity findings: injected markup could run script" in out
    # Counts go on the next line when the header line would pass 80 columns.
    assert "content-security-policy-report-only (headers)\n  2 high, " in out
    assert max(len(line) for line in out.splitlines()[3:]) <= 80
    lines = [line.split() for line in out.splitlines()]
    assert ["high", "script-src", "'unsafe-inline'", "inline", "scripts", "and", "handlers",
            "run"] in lines  # fmt: skip
    # User text is printed as given, never read as rich markup.
    assert "content-security-policy (rule [bold]docs[/bold]): 1 medium-maybe" in out

    report = json.loads(run("check", "-p", "p.toml", "--json", cwd=tmp_path).stdout)
    evaluator = report["csp_evaluator"]
    assert evaluator["high"] == 2
    csp, rule = evaluator["policies"]
    assert csp["report_only"] is True
    assert (rule["where"], rule["report_only"]) == ("rule [bold]docs[/bold]", False)
    high = {(f["directive"], f["value"]) for f in csp["findings"] if f["severity"] == "high"}
    assert high == {("script-src", "'unsafe-inline'"), ("script-src", "https://www.google.com")}


def test_grade_lists_every_finding_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(WEAK)
    out = run("check", "-p", "p.toml", "--grade", cwd=tmp_path).stdout
    section = out[out.index("CSP Evaluator") :]
    assert "require-trusted-types-for" in section  # an info note, hidden without --grade
    assert "www.google.com serves" in " ".join(section.split())  # the reason, not the title


def test_policy_without_a_csp(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[headers]\nx-content-type-options = "nosniff"\n')
    result = run("check", "-p", "p.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "The policy sends no Content-Security-Policy." in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    report = json.loads(run("check", "-p", "p.toml", "--json", cwd=tmp_path).stdout)
    assert report["csp_evaluator"]["policies"] == []


def test_invalid_policy_has_no_evaluator_section(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text("[[[")
    result = run("check", "-p", "p.toml", "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert "csp_evaluator" not in json.loads(result.stdout)
