"""x-frame-options: DENY/SAMEORIGIN, or any CSP frame-ancestors directive."""

from __future__ import annotations

from typing import Any, Final

from edgeshield.grade.model import Outcome, Response
from edgeshield.grade.parse.csp import CspMap
from edgeshield.grade.parse.jsstr import trim

NAME: Final = "x-frame-options"
_PASSING: Final = frozenset(
    {
        "x-frame-options-allow-from-origin",
        "x-frame-options-sameorigin-or-deny",
        "x-frame-options-implemented-via-csp",
    }
)


def analyze(resp: Response | None, csp: CspMap | None) -> Outcome:
    data: dict[str, Any] | None = None
    header = resp.headers.get("x-frame-options") if resp is not None else None
    if resp is None:
        return Outcome(NAME, "x-frame-options-not-implemented", False)
    if header:
        value = header[:1024]
        data = {"header": value}
        xfo = trim(value).lower()
        if xfo in ("deny", "sameorigin"):
            result = "x-frame-options-sameorigin-or-deny"
        elif xfo.startswith("allow-from"):
            result = "x-frame-options-allow-from-origin"
        else:
            result = "x-frame-options-header-invalid"  # includes "DENY, DENY"
    else:
        result = "x-frame-options-not-implemented"
    # Any frame-ancestors counts, whatever its value (an Observatory quirk:
    # https://github.com/mdn/mdn-http-observatory/blob/main/src/analyzer/tests/x-frame-options.js).
    if csp is not None and "frame-ancestors" in csp:
        result = "x-frame-options-implemented-via-csp"
    return Outcome(NAME, result, result in _PASSING, data)
