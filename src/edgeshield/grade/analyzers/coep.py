"""cross-origin-embedder-policy: one structured-field token, compared case-sensitively."""

from __future__ import annotations

from typing import Final

from edgeshield.grade.model import Outcome, Response
from edgeshield.grade.parse.jsstr import trim
from edgeshield.sf import item_token

NAME: Final = "cross-origin-embedder-policy"
_RESULTS: Final = {
    "require-corp": "coep-implemented-with-require-corp",
    "credentialless": "coep-implemented-with-credentialless",
    "unsafe-none": "coep-implemented-with-unsafe-none",
}


def analyze(resp: Response | None) -> Outcome:
    header = resp.headers.get("cross-origin-embedder-policy") if resp is not None else None
    if not header:
        return Outcome(NAME, "coep-not-implemented", True)
    value = trim(header[:1024])
    token = item_token(value)
    result = _RESULTS.get(token, "coep-header-invalid") if token else "coep-header-invalid"
    return Outcome(NAME, result, result != "coep-header-invalid", {"header": value})
