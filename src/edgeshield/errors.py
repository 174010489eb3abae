"""The one base class of every error edgeshield raises on purpose.

A program using edgeshield as a library can catch ``EdgeshieldError`` to tell "the input was
wrong" (a policy with errors, a malformed event, a bad serve option, an unreachable origin)
from a bug. Each subclass keeps its historical base too (``ValueError`` for parse errors), so
existing ``except ValueError`` code keeps working.
"""

from __future__ import annotations


class EdgeshieldError(Exception):
    """Base of every error edgeshield raises deliberately; its message is one line for a user."""


__all__ = ["EdgeshieldError"]
