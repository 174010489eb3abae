"""Problems found in a policy: one line each, in the form the user sees.

``FILE:LINE: <where>: <what is wrong>; <what is allowed / the fix>`` for errors, with
``warning:`` before ``<where>`` for weak-but-legal choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from edgeshield.errors import EdgeshieldError

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    where: str  # dotted path in the policy, e.g. "headers.content-security-policy.script-src"
    what: str  # what is wrong
    fix: str  # what is allowed, or how to fix it
    severity: Severity = "error"
    file: str = "<policy>"
    line: int = 0

    def format(self) -> str:
        """One line, always: control characters in keys are shown escaped."""
        prefix = "warning: " if self.severity == "warning" else ""
        where = "".join(c if c.isprintable() else repr(c)[1:-1] for c in self.where)
        return f"{self.file}:{self.line}: {prefix}{where}: {self.what}; {self.fix}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "severity": self.severity,
            "where": self.where,
            "what": self.what,
            "fix": self.fix,
        }


class PolicyError(EdgeshieldError):
    """A policy has errors. ``str()`` gives one line per problem (warnings included)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]
