"""cross-origin-resource-policy: repeated lines are folded, so a repeat is invalid."""

from __future__ import annotations

from typing import Final

from edgeshield.grade.model import Outcome, Response
from edgeshield.grade.parse.jsstr import trim

NAME: Final = "cross-origin-resource-policy"
_RESULTS: Final = {
    "same-site": "corp-implemented-with-same-site",
    "same-origin": "corp-implemented-with-same-origin",
    "cross-origin": "corp-implemented-with-cross-origin",
}


def analyze(resp: Response | None) -> Outcome:
    header = resp.headers.get("cross-origin-resource-policy") if resp is not None else None
    if not header:
        return Outcome(NAME, "corp-not-implemented", True)
    value = trim(header[:256]).lower()
    if not value:
        return Outcome(NAME, "corp-not-implemented", True)
    result = _RESULTS.get(value, "corp-header-invalid")
    return Outcome(NAME, result, result != "corp-header-invalid", {"header": value})
