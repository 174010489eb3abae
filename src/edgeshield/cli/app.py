"""The typer application every command module registers on.

Command modules live next to this one (one per area: policy, serve, grade, aws, logs) and are
imported by ``edgeshield.cli`` so that their ``@app.command()`` decorators run. Keep them thin:
parse arguments, call the packages, print.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="edgeshield",
    help="Security headers for CloudFront: policy, Lambda@Edge function, local edge, grader, AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Exit codes shared by every command.
EXIT_OK = 0
EXIT_FAILURE = 1  # the thing checked failed (validation violation, grade below the bar, ...)
EXIT_USAGE = 2  # the user's input is wrong (bad policy, bad file, bad option)
