"""Test your own Lambda@Edge functions with CloudFront's rules, as moto lets you test AWS.

``LocalEdge`` runs a local CloudFront edge in-process; ``invoke`` runs one function once and
judges its result. The pytest plugin (``edgeshield.testing.plugin``, loaded automatically when
edgeshield is installed) wraps both as the ``local_edge`` and ``invoke_edge`` fixtures.

The names are imported on first use: pytest imports this package (for the plugin) in every
session of every project that has edgeshield installed, and most never start an edge.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "EdgeResponse": "edgeshield.testing.local_edge",
    "LocalEdge": "edgeshield.testing.local_edge",
    "InvokeResult": "edgeshield.emulator.functions.invoke",
    "invoke": "edgeshield.emulator.functions.invoke",
}

if TYPE_CHECKING:
    from edgeshield.emulator.functions.invoke import InvokeResult, invoke
    from edgeshield.testing.local_edge import EdgeResponse, LocalEdge


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'edgeshield.testing' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["EdgeResponse", "InvokeResult", "LocalEdge", "invoke"]
