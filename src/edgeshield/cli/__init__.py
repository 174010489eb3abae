"""The ``edgeshield`` command line.

Each command module registers its commands on ``app`` when imported; add a new module to the
import list below (kept alphabetical).
"""

from __future__ import annotations

from edgeshield.cli import (  # noqa: F401  imported for their @app.command registrations
    aws_cmds,
    grade_cmds,
    logs_cmds,
    policy_cmds,
    serve_cmds,
)
from edgeshield.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
