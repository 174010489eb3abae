"""x-content-type-options: must be exactly nosniff."""

from __future__ import annotations

from typing import Final

from edgeshield.grade.model import Outcome, Response
from edgeshield.grade.parse.jsstr import trim

NAME: Final = "x-content-type-options"


def analyze(resp: Response | None) -> Outcome:
    header = resp.headers.get("x-content-type-options") if resp is not None else None
    if not header:
        return Outcome(NAME, "x-content-type-options-not-implemented", False)
    value = header[:256]
    if trim(value).lower() == "nosniff":
        return Outcome(NAME, "x-content-type-options-nosniff", True, {"header": value})
    return Outcome(NAME, "x-content-type-options-header-invalid", False, {"header": value})
