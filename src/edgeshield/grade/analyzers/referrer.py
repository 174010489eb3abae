"""referrer-policy: the last recognised token of header values then meta tags wins."""

from __future__ import annotations

from typing import Final

from edgeshield.grade.model import Outcome, Response
from edgeshield.grade.parse.jsstr import trim

NAME: Final = "referrer-policy"
PRIVATE: Final = frozenset(
    {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
)
UNSAFE: Final = frozenset(
    {"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}
)
_VALID: Final = PRIVATE | UNSAFE


def analyze(resp: Response | None, meta: list[str]) -> Outcome:
    if resp is None:
        return Outcome(NAME, "referrer-policy-not-implemented", False)
    header = resp.headers.get("referrer-policy")
    values = ([header] if header is not None else []) + meta
    if not values:
        return Outcome(NAME, "referrer-policy-not-implemented", True)
    joined = ", ".join(values)
    policy = ""
    for token in reversed(joined.split(",")):
        candidate = trim(token.lower())
        if candidate in _VALID:
            policy = candidate
            break
    if policy in PRIVATE:
        result = "referrer-policy-private"
    elif policy in UNSAFE:
        result = "referrer-policy-unsafe"
    else:
        result = "referrer-policy-header-invalid"
    data = {"header": joined, "http": header is not None, "meta": bool(meta)}
    return Outcome(NAME, result, result == "referrer-policy-private", data)
