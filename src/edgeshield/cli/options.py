"""Options and checks every command shares, so each means the same everywhere.

``--policy FILE`` (short ``-p``) is how every command that runs the policy takes it; without
it, ``./edgeshield.toml`` is used when it exists, else the built-in strict preset. The AWS
commands also need the optional ``aws`` extra: ``require_aws`` says so in one line.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from edgeshield.cli.app import EXIT_USAGE
from edgeshield.cli.console import fail

DEFAULT_POLICY_FILE = Path("edgeshield.toml")
BUILTIN_LABEL = "built-in strict preset"

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        "-p",
        metavar="FILE",
        help="Policy file (default: ./edgeshield.toml if it exists, else the built-in strict preset)",
    ),
]


# Commands with a --format also take --json, as the commands without one do.
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Machine-readable output (the same as --format json)")
]


F = TypeVar("F", bound=str)


def with_json(fmt: F, as_json: bool, table: F, json_format: F) -> F:
    """The output format once ``--json`` is read: json, unless ``--format`` asked for another."""
    if not as_json:
        return fmt
    if fmt not in (table, json_format):
        fail(f"--json and --format {fmt} ask for two formats: give one", EXIT_USAGE)
    return json_format


def resolve_policy(path: Path | None) -> Path | None:
    """An explicit path, else ./edgeshield.toml when present, else None (the strict preset)."""
    if path is not None:
        return path
    return DEFAULT_POLICY_FILE if DEFAULT_POLICY_FILE.is_file() else None


def policy_label(path: Path | None) -> str:
    """How banners and reports name the policy in use: the path as given, or the preset."""
    return BUILTIN_LABEL if path is None else str(path)


# The modules the `aws` extra brings (pyproject.toml [project.optional-dependencies] aws).
AWS_MODULES = ("boto3", "aws_cdk", "constructs", "cdk_nag")
AWS_EXTRA_HINT = "pip install 'edgeshield[aws]'"


def aws_extra_hint() -> str:
    """How to install the aws extra for the interpreter running this: from a source checkout
    (an editable install, which ``pip install 'edgeshield[aws]'`` would replace with the
    released package), the checkout itself, with ``make setup`` when this is the checkout's own
    ``.venv``; else the package index."""
    parents = Path(__file__).resolve().parents
    root = parents[3] if len(parents) > 3 else None
    if root is None or not (
        (root / "pyproject.toml").is_file() and (root / "src" / "edgeshield").is_dir()
    ):
        return AWS_EXTRA_HINT
    if Path(sys.prefix).resolve() == (root / ".venv").resolve():
        return f"make setup (or pip install -e '.[aws]') in {root}"
    return f"pip install -e '{root}[aws]'"


def missing_aws_modules(modules: tuple[str, ...] = AWS_MODULES) -> list[str]:
    """The modules of the aws extra that cannot be imported here (none on a full install)."""
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def require_aws(command: str, modules: tuple[str, ...] = AWS_MODULES, instead: str = "") -> None:
    """Exit 2 with one line naming the extra when ``command`` cannot run on this install;
    ``instead``: what the user may have meant, which needs no extra."""
    missing = missing_aws_modules(modules)
    if missing:
        fail(
            f"`edgeshield {command}` needs the aws extra ({', '.join(missing)} not installed); "
            f"install it with: {aws_extra_hint()}" + (f" ({instead})" if instead else ""),
            EXIT_USAGE,
        )
