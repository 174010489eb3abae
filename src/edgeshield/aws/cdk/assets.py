"""The code directories the CDK stack deploys: the edge bundle, the collector, the hasher.

Each is a small tree written deterministically (``edgeshield.packaging``), so an unchanged
policy or collector gives the same asset hash and CloudFormation does not publish a new
function version for nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edgeshield import bundle
from edgeshield.packaging import stage_collector, stage_hasher

if TYPE_CHECKING:
    from edgeshield.policy.compiled import CompiledPolicy


def stage_edge(compiled: CompiledPolicy, dest: Path) -> Path:
    return bundle.stage(compiled, dest)


def stage_all(compiled: CompiledPolicy, root: Path) -> dict[str, Path]:
    """Write the three trees under ``root``; returns their directories by role."""
    return {
        "edge": stage_edge(compiled, root / "edge"),
        "collector": stage_collector(root / "collector"),
        "hasher": stage_hasher(root / "hasher"),
    }
