"""redirection: how the http:// URL reaches HTTPS."""

from __future__ import annotations

import functools
from typing import Final
from urllib.parse import urlsplit

from edgeshield.grade.lists.preload import is_preloaded
from edgeshield.grade.model import Hop, Outcome, Response

NAME: Final = "redirection"
_PASSING: Final = frozenset(
    {
        "redirection-not-needed-no-http",
        "redirection-all-redirects-preloaded",
        "redirection-to-https",
    }
)


@functools.lru_cache(maxsize=1024)
def _split(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower()
    except ValueError:
        return "", ""


def analyze(http: Response | None, route: list[Hop]) -> Outcome:
    """``http``: final response of the http:// session (None = no answer); ``route``: its hops."""
    if http is None:
        return Outcome(NAME, "redirection-not-needed-no-http", True)
    if not http.verified:
        return Outcome(NAME, "redirection-invalid-cert", False, {"route": [h.url for h in route]})
    hops = [_split(h.url) for h in route]
    if all(is_preloaded(host) for _, host in hops):
        result = "redirection-all-redirects-preloaded"
    elif len(hops) == 1:
        result = "redirection-missing"  # stayed on http
    elif hops[-1][0] != "https":
        result = "redirection-not-to-https"
    elif hops[1][0] == "http":
        result = "redirection-not-to-https-on-initial-redirection"
    elif hops[0][0] == "http" and hops[1][0] == "https" and hops[0][1] != hops[1][1]:
        result = "redirection-off-host-from-http"
    else:
        result = "redirection-to-https"
    data = {"route": [h.url for h in route], "destination": route[-1].url if route else None}
    return Outcome(NAME, result, result in _PASSING, data)
