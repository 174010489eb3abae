"""Output helpers: rich on a terminal, plain text when piped, errors on stderr."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from edgeshield.safetext import printable


def _tolerant(stream: Any) -> None:
    """A character the terminal's encoding cannot show is printed as an escape instead of
    raising UnicodeEncodeError in the middle of a write (which also leaves rich's buffer
    holding the text, so every later print fails the same way)."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        # A detached or closed stream has nothing left to protect.
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="backslashreplace")


_tolerant(sys.stdout)
_tolerant(sys.stderr)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_untrusted(text: str, style: str | None = None, *, keep_lines: bool = False) -> None:
    """Text chosen by someone else (a viewer, an origin, a function, a CSP report): controls
    and escapes made visible, never read as rich markup."""
    safe = printable(text, keep_lines=keep_lines)
    # emoji=False: rich would otherwise turn ":skull:" in a report into an emoji.
    if style and out.is_terminal:
        out.print(f"[{style}]{escape(safe)}[/]", emoji=False)
    else:
        out.print(safe, markup=False, emoji=False)


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
