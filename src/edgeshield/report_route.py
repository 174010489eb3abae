"""Where CSP reports go: the path the distribution routes to the collector, and the header
that carries the collector's shared secret.

One definition for every side of that route: the CDK stack (a cache behavior at the path, the
header as an origin custom header), the collector Lambda (which checks the header; this module
ships in its code tree, so it stays stdlib-only and constant-only), the local edge's collector
route and the browser pass of ``csp fit``.
"""

from __future__ import annotations

from typing import Final

REPORT_PATH: Final = "/_edgeshield/csp-report"  # where the presets' report-uri points
SECRET_HEADER: Final = "x-edgeshield-secret"

__all__ = ["REPORT_PATH", "SECRET_HEADER"]
