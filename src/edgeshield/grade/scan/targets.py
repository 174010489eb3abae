"""Turn what the user typed into the http:// and https:// URLs a scan fetches. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from edgeshield.errors import EdgeshieldError


class TargetError(EdgeshieldError, ValueError):
    """The user's URL cannot be scanned."""


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    http_url: str
    https_url: str


def _netloc(host: str, port: int | None, default: int) -> str:
    h = f"[{host}]" if ":" in host else host
    return h if port is None or port == default else f"{h}:{port}"


def parse_target(text: str, http_port: int | None = None, https_port: int | None = None) -> Target:
    """``example.com``, ``https://example.com/path`` or ``http://127.0.0.1:8080/``.

    An explicit port in the URL applies to its own scheme; the other scheme uses its default
    port unless ``http_port``/``https_port`` say otherwise (a local server on two ports).
    """
    raw = text.strip()
    if not raw:
        raise TargetError("empty URL")
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise TargetError(f"{text!r} is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetError(f"{text!r}: only http:// and https:// URLs can be scanned")
    host = (parts.hostname or "").lower()
    if not host:
        raise TargetError(f"{text!r} has no host name")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if scheme == "https":
        https_p = https_port if https_port is not None else port
        http_p = http_port
    else:
        http_p = http_port if http_port is not None else port
        https_p = https_port
    return Target(
        host=host,
        http_url=f"http://{_netloc(host, http_p, 80)}{path}",
        https_url=f"https://{_netloc(host, https_p, 443)}{path}",
    )
