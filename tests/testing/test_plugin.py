"""The pytest plugin as a user's project meets it: docs/testing.md's example project, written
to a temporary folder and run by pytest in a subprocess with the installed package (the plugin
is found through its ``pytest11`` entry point, not imported by us)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_blocks import code_blocks

pytestmark = pytest.mark.slow


def _project(tmp_path: Path) -> Path:
    function, tests = code_blocks("testing.md", "python")
    project = tmp_path / "project"
    (project / "site").mkdir(parents=True)
    (project / "site" / "index.html").write_text("<!doctype html><h1>home</h1>\n")
    (project / "auth.py").write_text(function)
    (project / "test_auth.py").write_text(tests)
    return project


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_the_documented_project_passes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    run = _pytest(project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout
    assert not (project / ".edgeshield").exists(), "the fixtures must leave the project clean"


def test_a_broken_function_fails_the_users_test(tmp_path: Path) -> None:
    """The fixtures report what CloudFront would do, so a user's assertion can fail."""
    project = _project(tmp_path)
    auth = project / "auth.py"
    auth.write_text(
        auth.read_text().replace(
            'return {\n            "status": "401"', 'return {\n            "status": "200"'
        )
    )
    run = _pytest(project, "-k", "private_needs_a_password")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed" in run.stdout


def test_a_function_that_raises_is_a_503_not_a_crash(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "boom.py").write_text("def handler(event, context):\n    raise KeyError('nope')\n")
    (project / "test_boom.py").write_text(
        "from edgeshield import build_event\n\n"
        "def test_boom(invoke_edge, local_edge):\n"
        "    answer = invoke_edge('boom.handler', build_event('viewer-request', uri='/'))\n"
        "    assert answer.status == 'error' and answer.error_type == 'KeyError'\n"
        "    assert answer.cloudfront_error == 'LambdaExecutionError'\n"
        "    assert answer.http_status == 503\n"
        "    edge = local_edge(origin='site', functions={'viewer-request': 'boom.handler'})\n"
        "    assert edge.get('/').status == 503\n"
        "    assert edge.get('/').status == 503  # the edge keeps serving\n"
        "    assert any('KeyError' in line for line in edge.logs())\n"
    )
    run = _pytest(project, "test_boom.py")
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_failed_assertion_shows_cloudfronts_reason(tmp_path: Path) -> None:
    """pytest prints ``where False = <InvokeResult>.accepted``: the result's repr is the verdict
    in one line, so the reason shows without -vv; and a misspelt handler is an error that names
    it, not a 503 an assertion could expect."""
    project = _project(tmp_path)
    (project / "test_reason.py").write_text(
        "from edgeshield import build_event\n\n"
        "def test_via(invoke_edge):\n"
        "    answer = invoke_edge('auth.add_via', build_event('origin-response', uri='/'))\n"
        "    assert answer.accepted\n\n"
        "def test_typo(invoke_edge):\n"
        "    answer = invoke_edge('atuh.handler', build_event('viewer-request', uri='/'))\n"
        "    assert answer.http_status == 503\n"
    )
    run = _pytest(project, "test_reason.py")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "2 failed" in run.stdout
    assert (
        "InvokeResult(origin-response, LambdaValidationError (502): Lambda function result "
        "failed validation, the function tried to add read-only header, headerName : Via."
    ) in run.stdout
    assert "InvokeError: handler 'atuh.handler'" in run.stdout
    assert "No module named 'atuh'" in run.stdout
