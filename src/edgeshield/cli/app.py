"""The typer application every command module registers on.

Command modules live next to this one (one per area: policy, serve, grade, aws, logs) and are
imported by ``edgeshield.cli`` so that their ``@app.command()`` decorators run. Keep them thin:
parse arguments, call the packages, print.
"""

from __future__ import annotations

from typing import Annotated, Any

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


# Recent typer describes an option's value with a ``type_descriptor`` (its annotation) where
# click, and older typer, have a click ``type``: both are read here, by attribute.


def _kind(option: Any) -> tuple[str, tuple[Any, ...]]:
    """The option's value type as "int", "float", "path", "choice" or "str", and its choices."""
    desc = getattr(option, "type_descriptor", None)
    if desc is not None:
        if desc.is_choice:
            return "choice", tuple(desc.choices or ())
        if desc.is_path:
            return "path", ()
        annotation = desc.annotation
        if desc.is_list:
            annotation = (getattr(annotation, "__args__", None) or (str,))[0]
        name = getattr(annotation, "__name__", "str")
        return (name if name in ("int", "float") else "str"), ()
    kind = option.type
    name = str(getattr(kind, "name", ""))
    if getattr(kind, "choices", None):
        return "choice", tuple(kind.choices)
    for prefix, label in (("integer", "int"), ("float", "float"), ("path", "path")):
        if name.startswith(prefix):
            return label, ()
    return "str", ()


def _metavar(option: Any) -> str:
    """What a value looks like, in words a user reads (never a Python type name)."""
    kind, choices = _kind(option)
    long = str(max(option.opts, key=len)).lstrip("-")
    if kind == "choice":
        return "|".join(str(getattr(c, "value", c)) for c in choices)
    if kind == "int":
        return "N"
    if kind == "float":
        return "SECONDS" if "second" in (option.help or "").lower() else "N"
    if kind == "path":
        folder = long in ("out", "state", "root", "origin") or long.endswith("-dir")
        return "DIR" if folder else "FILE"
    return _NAMED.get(long, long.rsplit("-", 1)[-1].upper())


# Text options whose last word does not say what the value is.
_NAMED = {
    "since": "DURATION",
    "filter": "TEXT",
    "querystring": "QUERY",
    "body": "TEXT",
    "distribution": "ID",
    "function": "NAME",
    "group": "NAME",
    "header": "'NAME: VALUE'",
    "request-header": "'NAME: VALUE'",
}


def _plain_help_option(command: Any) -> None:
    """The --help option is made afresh on every call: give it no placeholder either."""
    make = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = make(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option


def tidy_help(command: Any) -> Any:
    """Give every option a placeholder in words (``--port N``, ``--since SINCE``) and none to
    flags: typer's defaults are type names (``<int>``, ``<bool>``, ``<list[str]>``)."""
    _plain_help_option(command)
    for param in command.params:
        if not hasattr(param, "is_flag"):  # an argument: its name says it all, no type column
            param.metavar = param.metavar or str(param.name).upper()
            param.display_type_rich = lambda ctx: None
        elif param.is_flag:
            param.metavar = ""
        elif param.metavar is None:
            param.metavar = _metavar(param)
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)
    return command


def command() -> Any:
    """The ``edgeshield`` command with every module's commands and tidy help."""
    return tidy_help(typer.main.get_command(app))


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"edgeshield {version('edgeshield')}")
        except PackageNotFoundError:  # running from a source tree without an install
            typer.echo("edgeshield (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    """Security headers for CloudFront: policy, Lambda@Edge function, local edge, grader, AWS."""
