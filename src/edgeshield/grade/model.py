"""What a scan collected: the input every analyzer reads. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgeshield.grade.parse.headers import Headers

# The Origin the Observatory sends with its CORS preflight.
OBSERVATORY_ORIGIN = "https://http-observatory.security.mozilla.org"


@dataclass(slots=True)
class Response:
    url: str
    status: int
    headers: Headers
    verified: bool = True  # the TLS chain validated (always True for plain HTTP)


@dataclass(slots=True, frozen=True)
class Hop:
    """One response on a redirect chain, in order; the last one is where the chain ended."""

    url: str
    status: int


@dataclass(slots=True)
class ScanInput:
    """Everything one Observatory scan looks at.

    ``auto`` is the final response the page tests read (the HTTPS one when HTTPS answered);
    ``https``/``http`` are the final responses of the two sessions (None = no answer);
    ``http_redirects`` is the route of the http:// session, final hop included.
    ``body`` None means the page body is unknown (header-only grading).
    ``cookies`` are (Set-Cookie line, URL that set it) for every response of the session.
    ``assumed`` names the tests whose input was not observed but assumed.
    """

    url: str
    host: str
    auto: Response | None
    https: Response | None
    http: Response | None = None
    http_redirects: list[Hop] = field(default_factory=list)
    body: str | None = None
    preflight: Response | None = None
    preflight_origin: str | None = OBSERVATORY_ORIGIN
    cookies: list[tuple[str, str]] = field(default_factory=list)
    assumed: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """One test's outcome: the Observatory's result name and pass flag, plus details."""

    name: str
    result: str
    passed: bool
    data: dict[str, Any] | None = None
    assumed: str | None = None  # why the input was assumed rather than observed
