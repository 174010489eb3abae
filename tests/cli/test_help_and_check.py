"""Help that reads like a tool's, and `check`'s report (issue 9.8); bad policies in every
command that reads one (issue 11.4)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edgeshield.cli.app import command

EDGESHIELD = str(Path(sys.executable).with_name("edgeshield"))


def run(*args: str, cwd: Path, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    return subprocess.run(
        [EDGESHIELD, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def _commands() -> list[list[str]]:
    root = command()
    found: list[list[str]] = [[]]
    for name, sub in root.commands.items():
        found.append([name])
        found.extend([name, inner] for inner in getattr(sub, "commands", {}))
    return found


def _options() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """short flag -> [(command, its option strings)] for every command."""
    seen: dict[str, list[tuple[str, tuple[str, ...]]]] = {}

    def visit(cmd: object, path: str) -> None:
        for param in getattr(cmd, "params", []):
            opts = tuple(getattr(param, "opts", ()))
            for opt in opts:
                if len(opt) == 2 and opt.startswith("-"):
                    seen.setdefault(opt, []).append((path, opts))
        for name, sub in getattr(cmd, "commands", {}).items():
            visit(sub, f"{path} {name}".strip())

    visit(command(), "")
    return seen


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "edgeshield")
def test_help_has_no_type_names_and_fits_80_columns(path: list[str], tmp_path: Path) -> None:
    shown = run(*path, "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    placeholders = re.findall(r"<[a-z][\w\[\] ]*>", shown.stdout)
    assert placeholders == [], placeholders
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80


def test_each_short_flag_means_one_thing_everywhere() -> None:
    for flag, uses in _options().items():
        meanings = {max(opts, key=len) for _cmd, opts in uses}
        assert len(meanings) == 1, (flag, uses)
    assert {max(o, key=len) for _c, o in _options()["-p"]} == {"--policy"}


def test_every_command_that_reads_the_policy_takes_policy_file() -> None:
    root = command()
    for name in ("check", "bundle", "invoke", "serve", "synth", "deploy"):
        opts = {o for p in root.commands[name].params for o in getattr(p, "opts", ())}
        assert {"--policy", "-p"} <= opts, name


def test_version(tmp_path: Path) -> None:
    shown = run("--version", cwd=tmp_path)
    assert shown.returncode == 0
    assert re.fullmatch(r"edgeshield \d+\.\d+\.\d+\S*\n", shown.stdout)


def test_check_prints_verdict_and_grade_first_and_one_table(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(
        '[headers]\nx-frame-options = "DENY"\nx-content-type-options = "nosniff"\n'
        "[headers.strict-transport-security]\nmax-age = 100\n"
        '[[rules]]\nname = "JSON is not stored"\nmatch = { content-type = ["application/json"] }\n'
        'set = { cache-control = "no-store" }\n'
        '[[rules]]\nname = "no framing rule on images"\nmatch = { content-type = ["image/*"] }\n'
        'drop = ["x-frame-options"]\n'
    )
    shown = run("check", cwd=tmp_path)
    assert shown.returncode == 0, shown.stdout
    lines = shown.stdout.splitlines()
    assert re.fullmatch(
        r"edgeshield\.toml: valid, 1 warning; Observatory grade [A-F][+-]? \(\d+\) on an HTML page",
        lines[0],
    ), lines[0]
    assert lines[1].startswith("edgeshield.toml:5: warning: ")  # problems: one line each
    assert max(len(line) for line in lines[2:]) <= 80
    text = shown.stdout
    assert text.count("X-Content-Type-Options") == 1  # same on every sample: one row
    assert "only on JSON 200" in text  # the rule's Cache-Control
    assert "only on PNG 200" in text  # X-Frame-Options not sent there
    assert "Date" not in text and "ETag" not in text  # the origin's own headers are not listed


def test_check_policy_option_and_old_argument_agree(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[headers]\nx-frame-options = "DENY"\n')
    by_option = run("check", "--policy", "p.toml", "--json", cwd=tmp_path)
    by_short = run("check", "-p", "p.toml", "--json", cwd=tmp_path)
    by_argument = run("check", "p.toml", "--json", cwd=tmp_path)
    assert by_option.stdout == by_short.stdout == by_argument.stdout
    both = run("check", "--policy", "p.toml", "p.toml", cwd=tmp_path)
    assert both.returncode == 2 and "give the policy once" in both.stderr


def test_check_uri_is_matched_as_cloudfront_sends_it(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(
        '[headers]\nx-a = "1"\n[[rules]]\nname = "menu"\nmatch = { path = ["/café/*"] }\n'
        'set = { x-menu = "yes" }\n'
    )
    shown = run("check", "--uri", "/café/today", cwd=tmp_path)
    assert "X-Menu" in shown.stdout and 'Rules that matched: custom: "menu"' in shown.stdout


HUGE = "[headers.strict-transport-security]\nmax-age = 1" + "0" * 5000 + "\n"


@pytest.mark.parametrize("args", [["check"], ["bundle"], ["invoke", "--event", "-"]])
def test_a_huge_number_is_one_line_in_every_command(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text(HUGE)
    event = run("event", "origin-response", cwd=tmp_path).stdout
    result = subprocess.run(
        [EDGESHIELD, *args], cwd=tmp_path, capture_output=True, text=True, input=event, timeout=120
    )
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "edgeshield.toml:2: a number is too long to read (5001 digits)" in output
    assert "Traceback" not in output


def test_check_with_a_utf16_policy_names_the_encoding(tmp_path: Path) -> None:
    (tmp_path / "edgeshield.toml").write_text('[headers]\nx-a = "1"\n', encoding="utf-16")
    shown = run("check", cwd=tmp_path)
    assert shown.returncode == 2
    assert "edgeshield.toml:1: the file is UTF-16" in shown.stdout
