"""The ``edgeshield`` command line.

Each command module registers its commands on ``app`` when imported. ``--help`` shows the
panels in the order their first command registers, so the imports follow the user's path:
policy and function, local edge, grading, AWS.
"""

from __future__ import annotations

from edgeshield.cli.app import app, command

# isort: off
from edgeshield.cli import policy_cmds  # noqa: F401  init, check, event, invoke, bundle
from edgeshield.cli import plan_cmds  # noqa: F401  plan (and bundle's other targets)
from edgeshield.cli import csp_cmds  # noqa: F401  csp fit
from edgeshield.cli import csp_verify_cmd  # noqa: F401  csp verify
from edgeshield.cli import serve_cmds  # noqa: F401  serve, stats
from edgeshield.cli import logs_cmds  # noqa: F401  logs (local and AWS)
from edgeshield.cli import grade_cmds  # noqa: F401  grade, scan
from edgeshield.cli import aws_cmds  # noqa: F401  synth, deploy, env
# isort: on


def main() -> None:
    command()(prog_name="edgeshield")


__all__ = ["app", "main"]
