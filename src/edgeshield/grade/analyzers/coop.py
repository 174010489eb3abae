"""cross-origin-opener-policy: one structured-field token, compared case-sensitively."""

from __future__ import annotations

from typing import Final

from edgeshield.grade.model import Outcome, Response
from edgeshield.grade.parse.jsstr import trim
from edgeshield.sf import item_token

NAME: Final = "cross-origin-opener-policy"
_RESULTS: Final = {
    "same-origin": "coop-implemented-with-same-origin",
    "same-origin-allow-popups": "coop-implemented-with-same-origin-allow-popups",
    "noopener-allow-popups": "coop-implemented-with-noopener-allow-popups",
    "unsafe-none": "coop-implemented-with-unsafe-none",
}


def analyze(resp: Response | None) -> Outcome:
    header = resp.headers.get("cross-origin-opener-policy") if resp is not None else None
    if not header:
        # A header present but empty is not "implemented" either.
        return Outcome(NAME, "coop-not-implemented", True)
    value = trim(header[:1024])
    token = item_token(value)
    result = _RESULTS.get(token, "coop-header-invalid") if token else "coop-header-invalid"
    return Outcome(NAME, result, result != "coop-header-invalid", {"header": value})
