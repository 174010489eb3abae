"""edgeshield: security headers for every response a CloudFront distribution serves.

The stable entry points, importable from here::

    from edgeshield import load_policy, compile_policy, grade_headers, build_event, invoke

- policy: ``load_policy``, ``check_policy``, ``compile_policy`` (returns a ``CompiledPolicy``)
- grading: ``grade_headers`` (the MDN HTTP Observatory's scoring)
- events and functions: ``build_event``, ``invoke`` (one function once, with CloudFront's
  verdict), ``LocalEdge`` (a local CloudFront edge in-process)
- errors: ``EdgeshieldError`` and its subclasses

Names load on first use, so ``import edgeshield`` stays cheap (the CLI and the edge bundle
import it on every start). See docs/api.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "load_policy": "edgeshield.api",
    "check_policy": "edgeshield.api",
    "compile_policy": "edgeshield.api",
    "CompiledPolicy": "edgeshield.policy.compiled",
    "Policy": "edgeshield.policy.model",
    "Problem": "edgeshield.policy.problems",
    "PolicyError": "edgeshield.policy.problems",
    "grade_headers": "edgeshield.grade",
    "Report": "edgeshield.grade",
    "build_event": "edgeshield.cloudfront.events",
    "validate_result": "edgeshield.cloudfront.validate",
    "Violation": "edgeshield.cloudfront.validate",
    "EventError": "edgeshield.cloudfront.events",
    "invoke": "edgeshield.emulator.functions.invoke",
    "InvokeResult": "edgeshield.emulator.functions.invoke",
    "InvokeError": "edgeshield.emulator.functions.invoke",
    "LocalEdge": "edgeshield.testing.local_edge",
    "EdgeResponse": "edgeshield.testing.local_edge",
    "ServeError": "edgeshield.emulator.runner",
    "ServeConfigError": "edgeshield.emulator.config",
    "EdgeshieldError": "edgeshield.errors",
}

if TYPE_CHECKING:
    from edgeshield.api import check_policy, compile_policy, load_policy
    from edgeshield.cloudfront.events import EventError, build_event
    from edgeshield.cloudfront.validate import Violation, validate_result
    from edgeshield.emulator.config import ServeConfigError
    from edgeshield.emulator.functions.invoke import InvokeError, InvokeResult, invoke
    from edgeshield.emulator.runner import ServeError
    from edgeshield.errors import EdgeshieldError
    from edgeshield.grade import Report, grade_headers
    from edgeshield.policy.compiled import CompiledPolicy
    from edgeshield.policy.model import Policy
    from edgeshield.policy.problems import PolicyError, Problem
    from edgeshield.testing.local_edge import EdgeResponse, LocalEdge


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'edgeshield' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "CompiledPolicy",
    "EdgeResponse",
    "EdgeshieldError",
    "EventError",
    "InvokeError",
    "InvokeResult",
    "LocalEdge",
    "Policy",
    "PolicyError",
    "Problem",
    "Report",
    "ServeConfigError",
    "ServeError",
    "Violation",
    "__version__",
    "build_event",
    "check_policy",
    "compile_policy",
    "grade_headers",
    "invoke",
    "load_policy",
    "validate_result",
]
