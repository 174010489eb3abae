"""Every example in docs/api.md runs, in a folder that holds what the page says it holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import edgeshield
from tests.docs_blocks import code_blocks


@pytest.fixture
def project(tmp_path: Path) -> Path:
    function = code_blocks("testing.md", "python")[0]
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<!doctype html><h1>home</h1>\n")
    (tmp_path / "auth.py").write_text(function)
    return tmp_path


@pytest.mark.parametrize("index", range(len(code_blocks("api.md", "python"))))
def test_api_example_runs(index: int, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    source = code_blocks("api.md", "python")[index]
    exec(compile(source, f"docs/api.md example {index + 1}", "exec"), {})
    if "LocalEdge" in source:  # state went where the page says
        assert (project / ".edgeshield" / "logs").is_dir()


def test_every_documented_name_is_exported() -> None:
    text = (Path(edgeshield.__file__).parents[2] / "docs" / "api.md").read_text()
    for name in edgeshield.__all__:
        if name.startswith("_") or name in {
            "Policy",
            "Problem",
            "Report",
            "EdgeResponse",
            "Violation",
        }:
            continue
        assert f"`{name}" in text, f"{name} is exported but docs/api.md does not describe it"
        assert getattr(edgeshield, name) is not None


def test_import_stays_cheap() -> None:
    """`import edgeshield` must not pull in the emulator, grader or AWS code (the CLI and
    every edge bundle import the package on start)."""
    import subprocess
    import sys

    code = "import sys, edgeshield; print(sorted(m for m in sys.modules if m.startswith('edgeshield')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ}
    )
    assert out.stdout.strip() == "['edgeshield']"


def test_errors_share_one_base() -> None:
    from edgeshield.aws.csp_reports import ReportError
    from edgeshield.emulator.pipeline.origin_fetch import OriginError

    for error in (
        edgeshield.PolicyError,
        edgeshield.EventError,
        edgeshield.ServeError,
        edgeshield.InvokeError,
        ReportError,
        OriginError,
    ):
        assert issubclass(error, edgeshield.EdgeshieldError)
    assert issubclass(edgeshield.EventError, ValueError)  # old except clauses keep working
    with pytest.raises(edgeshield.EdgeshieldError):
        edgeshield.build_event("viewer-request", uri="/", origin={"bad": 1})
