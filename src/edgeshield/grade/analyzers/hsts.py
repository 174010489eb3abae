"""strict-transport-security: read from the HTTPS response only."""

from __future__ import annotations

import math
from typing import Any, Final

from edgeshield.grade.lists.preload import is_preloaded
from edgeshield.grade.model import Outcome, Response
from edgeshield.grade.parse.jsstr import parse_int, trim

NAME: Final = "strict-transport-security"
# Six months is 15768000 s; the Observatory accepts 180 days (15552000 s) on purpose
# (https://github.com/mdn/mdn-http-observatory/blob/main/src/analyzer/tests/strict-transport-security.js).
SIX_MONTHS: Final = 15_552_000
_PASSING: Final = frozenset({"hsts-implemented-max-age-at-least-six-months", "hsts-preloaded"})


def analyze(https: Response | None, host: str) -> Outcome:
    data: dict[str, Any] = {}
    result = "hsts-not-implemented"
    if https is None:
        result = "hsts-not-implemented-no-https"
    elif not https.verified:
        result = "hsts-invalid-cert"
    else:
        header = https.headers.get("strict-transport-security")
        if header is not None:
            value = header[:1024]  # bounded against hostile headers
            data["header"] = value
            max_age: float | None = None
            if "," in value:
                result = "hsts-header-invalid"  # set twice: origin and edge both sent it
            else:
                for raw in value.split(";"):
                    param = trim(raw).lower()
                    if param.startswith("max-age="):
                        max_age = parse_int(param[8:128])
                    elif param == "includesubdomains":
                        data["includeSubDomains"] = True
                    elif param == "preload":
                        data["preload"] = True
                if max_age is None:
                    result = "hsts-header-invalid"
                # parseInt can give NaN ("max-age=abc"); NaN is not below six months.
                elif max_age < SIX_MONTHS:
                    result = "hsts-implemented-max-age-less-than-six-months"
                else:
                    result = "hsts-implemented-max-age-at-least-six-months"
                if max_age is not None:
                    data["maxAge"] = None if math.isnan(max_age) else int(max_age)
    if https is not None and is_preloaded(host):
        result = "hsts-preloaded"
        data["preloaded"] = True
    return Outcome(NAME, result, result in _PASSING, data or None)
