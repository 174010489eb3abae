"""``edgeshield serve`` shows the library's field-named errors in its own flags: every field an
error can name maps to a flag the command really has, and the message reads as before."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edgeshield.cli import app
from edgeshield.cli.app import command
from edgeshield.cli.serve_cmds import flag_for_field
from edgeshield.emulator.config import ServeConfig, ServeConfigError
from tests.emulator.test_serve_config import MISTAKES


def _serve_flags() -> set[str]:
    serve = command().commands["serve"]
    return {opt for param in serve.params for opt in param.opts}


@pytest.mark.parametrize(("fields", "field", "message"), MISTAKES)
def test_every_field_in_a_message_is_a_serve_flag(
    fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ServeConfigError) as caught:
        ServeConfig(**fields).check()
    shown = caught.value.render(flag_for_field)
    assert flag_for_field(field) in shown
    flags = set(re.findall(r"--[a-z][a-z-]*", shown))
    assert flags and flags <= _serve_flags()


def test_the_flags_of_the_renamed_fields_exist() -> None:
    for name in (
        "functions",
        "cache",
        "reload",
        "cloudfront_functions",
        "response_headers_policies",
    ):
        assert flag_for_field(name) in _serve_flags()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "error: --port must be between 0 and 65535"),
        (["--min-ttl", "5", "--default-ttl", "1"], "error: TTLs must satisfy 0 <= --min-ttl <= --default-ttl <= --max-ttl"),
        (["--function", "viewer-request=a.b", "--function", "viewer-request=c.d"], "error: --function: two functions on viewer-request"),
        (["--cloudfront-function", "origin-response=x.js"], "error: --cloudfront-function 'origin-response=x.js': expected viewer-request=FILE.js"),
        (["--response-headers-policy", "api/*=x.json"], "error: --response-headers-policy 'api/*=x.json': the path pattern must start with / or *"),
        (["--no-collector", "--collector-env", "A=1"], "error: --collector-env and --collector-secret need the collector on"),
        (["--collector-env", "1A=1"], "error: --collector-env '1A=1' must look like NAME=VALUE"),
        (["--mechanism", "fastly"], "error: --mechanism 'fastly': use lambda-edge, response-headers-policy or cloudfront-function"),
        (["--mechanism", "cloudfront-function", "--function", "viewer-request=a.b"], "error: --mechanism applies to the policy; with --function there is none"),
        (["--origin", "ftp://x.org"], "error: --origin ftp://x.org: only http:// and https:// origins are supported"),
    ],
)  # fmt: skip
def test_serve_prints_one_line_in_flag_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["serve", "--port", "0", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert result.stdout == ""
