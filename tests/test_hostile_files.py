"""Files that parse badly on purpose: JSON nested a hundred thousand deep, numbers with more
digits than Python converts. Every reader of a user's file answers with one line naming it,
never a traceback (the standard library raises RecursionError or a bare ValueError there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgeshield import jsontext
from edgeshield.cli import app
from edgeshield.cloudfront.events import EventError
from edgeshield.cloudfront.parse import load_event
from edgeshield.emulator.pipeline.response_headers_policy import PolicyConfigError, load
from edgeshield.policy.csp_pages import load_manifest

DEEP = "[" * 100_000 + "]" * 100_000
LONG_NUMBER = '{"format": 1, "x": 1' + "0" * 5_000 + "}"

runner = CliRunner()


@pytest.mark.parametrize("text", [DEEP, LONG_NUMBER])
def test_every_json_failure_is_a_decode_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        jsontext.loads(text)


@pytest.mark.parametrize("text", [DEEP, LONG_NUMBER])
def test_the_readers_of_json_files_name_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(EventError, match=r"bad\.json: not valid JSON"):
        load_event(path)
    with pytest.raises(PolicyConfigError, match=r"bad\.json is not JSON"):
        load(path)
    _pages, problems = load_manifest(path, "bad.json", "Content-Security-Policy")
    assert [p.what.split(":")[0] for p in problems] == ["not valid JSON"]
    graded = runner.invoke(app, ["grade", "--headers", str(path)])
    assert graded.exit_code == 2
    assert "not valid JSON" in graded.stderr and "Traceback" not in graded.stderr


def test_a_policy_number_too_long_to_print_is_one_problem(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[headers.strict-transport-security]\nmax-age = 0x" + "f" * 5_000 + "\n")
    checked = runner.invoke(app, ["check", str(policy)])
    assert checked.exit_code == 2, checked.output
    assert "p.toml:2" in checked.output and "a number thousands of digits long" in checked.output


def test_a_file_too_large_to_be_a_policy_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (5 * 1024 * 1024))
    checked = runner.invoke(app, ["check", str(big)])
    assert checked.exit_code == 2
    assert "big.toml: is larger than 4 MiB" in checked.output


def test_thousands_of_problems_print_a_bounded_report(tmp_path: Path) -> None:
    rules = "".join(f'[[rules]]\nname = "r{i}"\nmatch = {{ path = 5 }}\n' for i in range(2_000))
    policy = tmp_path / "p.toml"
    policy.write_text("[headers]\nx-" + "k" * 100_000 + ' = "1"\n' + rules)
    checked = runner.invoke(app, ["check", str(policy)])
    assert checked.exit_code == 2
    lines = checked.output.splitlines()
    assert len(lines) <= 110 and "… and 3900 more (all of them with --json)" in lines[-1]
    assert max(len(line) for line in lines) < 1_000
    every = runner.invoke(app, ["check", str(policy), "--json"])
    assert len(json.loads(every.stdout)["problems"]) == 4_000
