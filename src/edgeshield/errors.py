"""The one base class of every error edgeshield raises on purpose.

A program using edgeshield as a library can catch ``EdgeshieldError`` to tell "the input was
wrong" (a policy with errors, a malformed event, a bad serve option, an unreachable origin)
from a bug. Each subclass keeps its historical base too (``ValueError`` for parse errors), so
existing ``except ValueError`` code keeps working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


class EdgeshieldError(Exception):
    """Base of every error edgeshield raises deliberately; its message is one line for a user."""


class FieldError(EdgeshieldError):
    """An option of a library call (a field of its config) holds a value it cannot use.

    ``field`` is the option at fault. ``template`` is the message with every option it mentions
    written ``{option_name}`` and ``{field}`` for the one at fault; other values are
    ``details``. ``str(error)`` names options as the library does (``min_ttl``); ``render(label)``
    names them as a front end does (the CLI's ``--min-ttl``). A detail's text is never read as
    part of the template, so user input with braces in it is shown as given."""

    def __init__(self, field: str, template: str, **details: object) -> None:
        self.field = field
        self.template = template
        self.details = details
        super().__init__(self.render())

    def render(self, label: Callable[[str], str] = str) -> str:
        return self.template.format_map(_Names(label, {"field": label(self.field), **self.details}))


class _Names(dict[str, object]):
    """The details, and for any other name in a template the label of that option."""

    def __init__(self, label: Callable[[str], str], details: Mapping[str, object]) -> None:
        super().__init__(details)
        self.label = label

    def __missing__(self, key: str) -> str:
        return self.label(key)


__all__ = ["EdgeshieldError", "FieldError"]
