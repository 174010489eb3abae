"""Output helpers: rich on a terminal, plain text when piped, errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine-readable output: always plain JSON on stdout, never rich markup."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    # The message often quotes user input (paths, values): never let rich read it as markup.
    err.print(
        f"[bold red]error:[/] {escape(message)}" if err.is_terminal else f"error: {message}",
        markup=err.is_terminal,
    )
    raise typer.Exit(code)
