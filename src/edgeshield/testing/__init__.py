"""Test your own Lambda@Edge functions with CloudFront's rules, as moto lets you test AWS.

``LocalEdge`` runs a local CloudFront edge in-process; ``invoke`` runs one function once and
judges its result. The pytest plugin (``edgeshield.testing.plugin``, loaded automatically when
edgeshield is installed) wraps both as the ``local_edge`` and ``invoke_edge`` fixtures.
"""

from edgeshield.emulator.functions.invoke import InvokeResult, invoke
from edgeshield.testing.local_edge import EdgeResponse, LocalEdge

__all__ = ["EdgeResponse", "InvokeResult", "LocalEdge", "invoke"]
