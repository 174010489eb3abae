"""Build the Lambda@Edge package: the ``edgeshield.edge`` sources plus the compiled policy.

The same tree is used three ways: staged into a directory for ``edgeshield serve`` (which
imports the handler from it exactly as Lambda imports it from the zip), zipped for
``edgeshield bundle`` and as the CDK asset. The zip is reproducible: fixed timestamps,
permissions and order, so the same policy always gives the same bytes and the same hash —
and CloudFormation publishes a new function version only when something really changed.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from edgeshield.cloudfront.rules import PACKAGE_LIMIT_ORIGIN, PACKAGE_LIMIT_VIEWER
from edgeshield.packaging import write_tree
from edgeshield.policy.compile import dumps
from edgeshield.policy.compiled import CompiledPolicy

EDGE_MODULES = ("__init__.py", "engine.py", "handler.py", "pages.py")
_ROOT_INIT = '"""edgeshield Lambda@Edge bundle: see edgeshield/edge/handler.py."""\n'
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class BundleInfo:
    path: Path
    size: int  # compressed bytes: what Lambda's package quota counts
    sha256: str
    files: tuple[str, ...]

    @property
    def fits_viewer(self) -> bool:
        return self.size <= PACKAGE_LIMIT_VIEWER

    @property
    def fits_origin(self) -> bool:
        return self.size <= PACKAGE_LIMIT_ORIGIN


def bundle_files(compiled: CompiledPolicy) -> dict[str, bytes]:
    """Archive path -> content, in the order they are written."""
    edge = resources.files("edgeshield.edge")
    files = {"edgeshield/__init__.py": _ROOT_INIT.encode()}
    for module in EDGE_MODULES:
        files[f"edgeshield/edge/{module}"] = edge.joinpath(module).read_bytes()
    files["edgeshield/edge/policy.json"] = (dumps(compiled) + "\n").encode()
    return files


def stage(compiled: CompiledPolicy, dest: Path) -> Path:
    """Write the bundle tree under ``dest`` and return the root to put first on sys.path.
    Files that already hold the right bytes are left alone, so a running emulator's worker
    is not disturbed by a no-op re-stage."""
    return write_tree(bundle_files(compiled), dest)


def zip_bytes(compiled: CompiledPolicy) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in bundle_files(compiled).items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r--, readable by Lambda's sandbox user
            info.create_system = 3  # Unix, so the permissions above are honoured
            archive.writestr(info, content, compresslevel=9)
    return buffer.getvalue()


def build_zip(compiled: CompiledPolicy, out: Path) -> BundleInfo:
    data = zip_bytes(compiled)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return BundleInfo(
        path=out,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        files=tuple(bundle_files(compiled)),
    )
