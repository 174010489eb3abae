"""The code trees edgeshield deploys, and the handler strings Lambda uses to enter them.

A tree is a mapping of archive path to bytes. ``write_tree`` puts it on disk the way both the
local edge and the CDK assets need it: only files whose bytes changed are rewritten (a running
worker is not disturbed by a no-op re-stage, and an unchanged tree keeps its CDK asset hash),
each one atomically. The edge bundle's tree (with the compiled policy) is built by
``edgeshield.bundle``; the collector's and the hasher's trees are here, with no dependency on
the CDK, so ``edgeshield serve`` runs exactly the collector code that ``edgeshield deploy`` ships.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Final

EDGE_HANDLER: Final = "edgeshield.edge.handler.handler"
COLLECTOR_HANDLER: Final = "edgeshield.aws.collector.handler"
HASHER_HANDLER: Final = "payload_hash.handler"

# The collector imports only these; the package __init__ files are written minimal so that
# nothing else of edgeshield (or its dependencies) is needed in the Lambda.
_COLLECTOR_MODULES: Final = ("collector.py", "csp_reports.py", "kms_env.py")
_COLLECTOR_INIT: Final = '"""edgeshield CSP-report collector asset."""\n'


def write_tree(files: Mapping[str, bytes], dest: Path) -> Path:
    """Write ``files`` under ``dest`` and return ``dest`` (the root to put on sys.path)."""
    for name, content in files.items():
        target = dest / name
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_bytes(content)
        tmp.replace(target)
    return dest


def collector_files() -> dict[str, bytes]:
    """The CSP-report collector's tree (entry point ``COLLECTOR_HANDLER``)."""
    aws = resources.files("edgeshield.aws")
    init = _COLLECTOR_INIT.encode()
    files = {"edgeshield/__init__.py": init, "edgeshield/aws/__init__.py": init}
    for module in _COLLECTOR_MODULES:
        files[f"edgeshield/aws/{module}"] = aws.joinpath(module).read_bytes()
    # csp_reports' ReportError derives from the package's one error base, and the collector
    # checks the secret header named in report_route (both stdlib only).
    root = resources.files("edgeshield")
    for module in ("errors.py", "report_route.py"):
        files[f"edgeshield/{module}"] = root.joinpath(module).read_bytes()
    return files


def hasher_files() -> dict[str, bytes]:
    """The payload-hash Lambda's tree (entry point ``HASHER_HANDLER``)."""
    source = resources.files("edgeshield.aws").joinpath("payload_hash.py").read_bytes()
    return {"payload_hash.py": source}


def stage_collector(dest: Path) -> Path:
    return write_tree(collector_files(), dest)


def stage_hasher(dest: Path) -> Path:
    return write_tree(hasher_files(), dest)
