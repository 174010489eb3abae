"""The code directories the CDK stack deploys: the edge bundle, the collector, the hasher.

Each is a small tree written deterministically, so an unchanged policy or collector gives the
same asset hash and CloudFormation does not publish a new function version for nothing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from edgeshield import bundle

COLLECTOR_HANDLER = "edgeshield.aws.collector.handler"
HASHER_HANDLER = "payload_hash.handler"
# The collector imports only these; the package __init__ files are written minimal so that
# nothing else of edgeshield (or its dependencies) is needed in the Lambda.
_COLLECTOR_MODULES = ("collector.py", "csp_reports.py", "kms_env.py")
_INIT = '"""edgeshield CSP-report collector asset."""\n'


def _write(files: dict[str, bytes], dest: Path) -> Path:
    for name, content in files.items():
        target = dest / name
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return dest


def collector_files() -> dict[str, bytes]:
    aws = resources.files("edgeshield.aws")
    files = {"edgeshield/__init__.py": _INIT.encode(), "edgeshield/aws/__init__.py": _INIT.encode()}
    for module in _COLLECTOR_MODULES:
        files[f"edgeshield/aws/{module}"] = aws.joinpath(module).read_bytes()
    # csp_reports' ReportError derives from the package's one error base (stdlib only).
    files["edgeshield/errors.py"] = resources.files("edgeshield").joinpath("errors.py").read_bytes()
    return files


def stage_collector(dest: Path) -> Path:
    return _write(collector_files(), dest)


def stage_hasher(dest: Path) -> Path:
    source = resources.files("edgeshield.aws").joinpath("payload_hash.py").read_bytes()
    return _write({"payload_hash.py": source}, dest)


def stage_edge(compiled: dict[str, Any], dest: Path) -> Path:
    return bundle.stage(compiled, dest)


def stage_all(compiled: dict[str, Any], root: Path) -> dict[str, Path]:
    """Write the three trees under ``root``; returns their directories by role."""
    return {
        "edge": stage_edge(compiled, root / "edge"),
        "collector": stage_collector(root / "collector"),
        "hasher": stage_hasher(root / "hasher"),
    }
