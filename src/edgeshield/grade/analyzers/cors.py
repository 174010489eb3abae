"""cross-origin-resource-sharing: the answer to a preflight sent from a foreign Origin."""

from __future__ import annotations

from typing import Final

from edgeshield.grade.model import Outcome, Response
from edgeshield.grade.parse.jsstr import trim

NAME: Final = "cross-origin-resource-sharing"


def analyze(preflight: Response | None, origin: str | None) -> Outcome:
    acao = preflight.headers.get("access-control-allow-origin") if preflight is not None else None
    if preflight is None or not acao:
        return Outcome(NAME, "cross-origin-resource-sharing-not-implemented", True)
    value = trim(acao[:256]).lower()
    credentials = preflight.headers.get("access-control-allow-credentials")
    if value == "*":
        result = "cross-origin-resource-sharing-implemented-with-public-access"
    elif origin and origin == acao and credentials and trim(credentials.lower()) == "true":
        # The Origin is echoed back and credentials are allowed: any site can read as the user.
        result = "cross-origin-resource-sharing-implemented-with-universal-access"
    else:
        result = "cross-origin-resource-sharing-implemented-with-restricted-access"
    passed = result != "cross-origin-resource-sharing-implemented-with-universal-access"
    return Outcome(NAME, result, passed, {"header": value})
