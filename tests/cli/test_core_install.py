"""A core install (``pip install edgeshield`` without the ``aws`` extra) explains itself
(issue 9.6): the AWS commands say which extra to install, exit 2, and never blame credentials;
everything else keeps working.

The core install is made real for the child process: a ``sitecustomize`` on PYTHONPATH puts a
finder in front of ``sys.meta_path`` that refuses every module of the extra, exactly as if
they were not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgeshield.cli.options import AWS_EXTRA_HINT, aws_extra_hint

BLOCKER = """
import sys

BLOCKED = {"boto3", "botocore", "aws_cdk", "constructs", "jsii", "cdk_nag", "moto"}


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
"""


@pytest.fixture(scope="module")
def core_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("core-site")
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(site)
    return env


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from edgeshield.cli import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_blocker_really_hides_the_extra(core_env: dict[str, str], tmp_path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import boto3"], env=core_env, capture_output=True, text=True
    )
    assert probe.returncode == 1 and "No module named 'boto3'" in probe.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["synth", "--out", "cdk.out"], "edgeshield synth"),
        (["deploy", "--yes"], "edgeshield deploy"),
        (["logs", "--function", "edgeshield-security-headers"], "edgeshield logs --function"),
        (["env", "encrypt", "--key", "alias/k", "--function", "f", "secret"], "env encrypt"),
    ],
)
def test_aws_commands_name_the_extra(
    core_env: dict[str, str], tmp_path: Path, args: list[str], named: str
) -> None:
    result = run(core_env, tmp_path, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0] and f"install it with: {aws_extra_hint()}" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert "credential" not in result.stderr.lower()
    if args[0] == "logs":  # what a user of the local edge most likely meant
        assert lines[0].endswith("(the local edge's logs need none: edgeshield logs --local)")


def test_the_install_hint_fits_the_install() -> None:
    """From a source checkout (an editable install, as these tests run), installing the
    released package would replace the tree under work: the hint says so."""
    root = Path(__file__).resolve().parents[2]
    assert (root / "src" / "edgeshield" / "__init__.py").is_file()
    if Path(sys.prefix).resolve() == (root / ".venv").resolve():  # make test's own venv
        assert aws_extra_hint() == f"make setup (or pip install -e '.[aws]') in {root}"
    else:  # another environment with this checkout installed in it: make setup would miss it
        assert aws_extra_hint() == f"pip install -e '{root}[aws]'"
    assert AWS_EXTRA_HINT == "pip install 'edgeshield[aws]'"  # for an install from PyPI


def test_the_core_still_checks_bundles_and_grades(core_env: dict[str, str], tmp_path: Path) -> None:
    assert run(core_env, tmp_path, "init").returncode == 0
    checked = run(core_env, tmp_path, "check", "--quiet")
    assert checked.returncode == 0 and "valid" in checked.stdout, checked.stderr
    bundled = run(core_env, tmp_path, "bundle", "--json")
    assert bundled.returncode == 0, bundled.stderr
    (tmp_path / "h.txt").write_text("X-Frame-Options: DENY\n")
    graded = run(core_env, tmp_path, "grade", "--headers", "h.txt", "--format", "json")
    assert graded.returncode == 0, graded.stderr
    local = run(core_env, tmp_path, "logs", "--local")
    assert local.returncode == 2 and "no local logs" in local.stderr  # not the extra


def test_serve_and_its_collector_run_on_the_core(core_env: dict[str, str], tmp_path: Path) -> None:
    """`make serve` installs only the core: the edge and the CSP-report collector must run."""
    from tests.emulator.helpers import fetch, start_serve

    proc = start_serve(tmp_path, "--quiet", "--no-reload", env=core_env)
    try:
        page = fetch(proc.port, "/")
        assert page.status == 200 and page.header("content-security-policy")
        report = fetch(
            proc.port,
            "/_edgeshield/csp-report",
            method="POST",
            headers={"Content-Type": "application/csp-report"},
            body=b'{"csp-report":{"blocked-uri":"inline","effective-directive":"script-src-elem",'
            b'"document-uri":"https://x.example/"}}',
        )
        assert report.status in (200, 204), report.body
    finally:
        proc.stop()
    assert "Traceback" not in proc.output()


def test_synth_without_cdk_nag_names_the_extra(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """synth checks every stack with cdk-nag, so it is part of the aws extra: an install that
    lacks it (an older extra, or a hand-picked set) gets the extra's line, not a traceback."""
    site = tmp_path_factory.mktemp("no-nag-site")
    (site / "sitecustomize.py").write_text(BLOCKER.replace(
        '{"boto3", "botocore", "aws_cdk", "constructs", "jsii", "cdk_nag", "moto"}', '{"cdk_nag"}'
    ))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(site)
    result = run(env, tmp_path, "synth", "--out", "cdk.out")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "`edgeshield synth` needs the aws extra (cdk_nag not installed)" in line
    assert "Traceback" not in result.stderr + result.stdout
