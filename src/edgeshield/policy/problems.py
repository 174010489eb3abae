"""Problems found in a policy: one line each, in the form the user sees.

``FILE:LINE: <where>: <what is wrong>; <what is allowed / the fix>`` for errors, with
``warning:`` before ``<where>`` for weak-but-legal choices; ``(rule "NAME")`` after ``<where>``
inside a ``[[rules]]`` entry. A problem with the file itself has no line: ``FILE: <what>; <fix>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from edgeshield.errors import EdgeshieldError

Severity = Literal["error", "warning"]
# What a header or directive validator reports before it knows the file, line and full path:
# (where-suffix, what, fix, severity). The caller turns each into a ``Problem``.
Finding = tuple[str, str, str, str]


@dataclass(frozen=True)
class Problem:
    where: str  # dotted path in the policy, e.g. "headers.content-security-policy.script-src"
    what: str  # what is wrong
    fix: str  # what is allowed, or how to fix it
    severity: Severity = "error"
    file: str = "<policy>"
    line: int = 0  # 0: the problem is the file itself (missing, unreadable)
    rule: str | None = None  # the name of the [[rules]] entry it is in

    def format(self) -> str:
        """One line, always: control characters in keys and names are shown escaped, and a
        key or name the user made megabytes long is cut."""
        prefix = "warning: " if self.severity == "warning" else ""
        what = _cut(self.what)
        if self.line == 0:
            return f"{self.file}: {prefix}{what}; {self.fix}"
        where = _cut(printable(self.where))
        if self.rule is not None:
            where += f' (rule "{_cut(printable(self.rule))}")'
        where = f"{where}: " if where else ""
        return f"{self.file}:{self.line}: {prefix}{where}{what}; {self.fix}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "severity": self.severity,
            "where": self.where,
            "what": self.what,
            "fix": self.fix,
            **({"rule": self.rule} if self.rule is not None else {}),
        }


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def printable(text: str) -> str:
    """``text`` with every character that is not printable shown as its escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class PolicyError(EdgeshieldError):
    """A policy has errors. ``str()`` gives one line per problem (warnings included)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def shown(value: object) -> str:
    """A policy value as the user wrote it in TOML, never as Python prints it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        try:
            text = str(value)
        except ValueError:  # more digits than Python converts (TOML's 0x, 0o, 0b forms)
            return "a number thousands of digits long"
        return text if len(text) <= 40 else f"a {len(text)}-digit number"
    if isinstance(value, str):
        return repr(value) if len(value) <= 200 else repr(value[:200]) + "…"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bytes):
        return "a byte sequence"
    return "a date or time"
