"""Header changes CloudFront makes between the viewer and the origin. Pure.

Requests to a custom origin, as AWS's "Request and response behavior for custom origins"
describes them: hop-by-hop and proxy headers removed, ``Host`` set to the origin,
``User-Agent: Amazon CloudFront``, ``X-Forwarded-For`` created or appended, ``Via`` added,
``Accept-Encoding`` normalized; ``Referer``, ``Accept-Language`` and ``Cookie`` dropped unless
the behavior forwards them (only cookies are configurable here). Responses to viewers lose
hop-by-hop headers; framing is redone.

https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Final

from edgeshield.cloudfront import HeaderPairs

HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Dropped on the way to the origin besides hop-by-hop ones (same page, "HTTP request headers").
_NOT_FORWARDED: Final = frozenset(
    {
        "expect",
        "x-forwarded-proto",
        "x-real-ip",
        "x-http-method-override",
        "x-cache",
        "referer",
        "accept-language",
        # The edge answers a viewer's conditional request itself, from the full object.
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
    }
)
# What an origin's response loses on the way in: hop-by-hop headers but Transfer-Encoding.
_DROPPED_FROM_ORIGIN: Final = HOP_BY_HOP - {"transfer-encoding"}
_NOT_FORWARDED_PREFIXES: Final = ("x-edge-", "x-amz-cf-", "x-amzn-")
_REPLACED: Final = frozenset({"host", "user-agent", "via", "x-forwarded-for", "accept-encoding"})


def new_edge_id() -> str:
    """The 32-hex id of this edge server, as it appears in ``Via``."""
    return secrets.token_hex(16)


def via_value(http_version: str, edge_id: str) -> str:
    return f"{http_version} {edge_id}.cloudfront.net (CloudFront)"


def normalize_accept_encoding(value: str | None) -> str | None:
    """CloudFront keeps only what it caches on: ``br,gzip``, ``gzip`` or nothing."""
    if not value:
        return None
    if value in _NORMALIZED:  # browsers send a handful of values: each is parsed once
        return _NORMALIZED[value]
    if len(_NORMALIZED) >= 1024:  # values chosen by viewers: keep the memo bounded
        _NORMALIZED.clear()
    normalized = _NORMALIZED[value] = _normalize(value)
    return normalized


_NORMALIZED: dict[str, str | None] = {}


def _normalize(value: str) -> str | None:
    codings = {part.split(";")[0].strip().lower() for part in value.split(",")}
    gzip = "gzip" in codings or "*" in codings
    br = "br" in codings
    if br and gzip:
        return "br,gzip"
    if gzip:
        return "gzip"
    return None


def _connection_tokens(value: str, tokens: set[str]) -> None:
    """Add the header names a ``Connection`` value lists (hop-by-hop for this message)."""
    tokens.update(t.strip().lower() for t in value.split(",") if t.strip())


def _without(pairs: HeaderPairs, named: set[str]) -> HeaderPairs:
    """``pairs`` less the headers a ``Connection`` header named (a second pass only when one
    did: most messages have none, or one that names nothing but keep-alive)."""
    return [p for p in pairs if p[0].lower() not in named]


def to_origin(
    viewer_headers: HeaderPairs,
    *,
    client_ip: str,
    origin_host: str,
    via: str,
    forward_cookies: bool,
    method: str,
) -> HeaderPairs:
    """The headers CloudFront sends the origin for a viewer request (before origin-request)."""
    conditional_ok = method not in ("GET", "HEAD")
    out: HeaderPairs = []
    named: set[str] = set()
    xff: list[str] = []
    vias: list[str] = []
    accept_encoding: str | None = None
    for name, value in viewer_headers:
        lower = name.lower()
        if lower == "connection":  # hop-by-hop itself; what it names goes too (below)
            _connection_tokens(value, named)
            continue
        if lower == "x-forwarded-for":
            xff.append(value)
            continue
        if lower == "via":
            vias.append(value)
            continue
        if lower == "accept-encoding":
            accept_encoding = value
            continue
        if lower in _REPLACED or lower in HOP_BY_HOP:
            continue
        if lower.startswith(_NOT_FORWARDED_PREFIXES):
            continue
        if lower in _NOT_FORWARDED and not (conditional_ok and lower.startswith("if-")):
            continue
        if lower == "cookie" and not forward_cookies:
            continue
        out.append((name, value))
    if named - HOP_BY_HOP:  # hop-by-hop names are gone already
        out = _without(out, named)
    out.insert(0, ("Host", origin_host))
    out.append(("User-Agent", "Amazon CloudFront"))
    out.append(("Via", ", ".join([*vias, via])))
    out.append(("X-Forwarded-For", ", ".join([*xff, client_ip])))
    normalized = normalize_accept_encoding(accept_encoding)
    if normalized:
        out.append(("Accept-Encoding", normalized))
    return out


def from_origin(headers: HeaderPairs) -> HeaderPairs:
    """An origin response's headers as CloudFront keeps them (hop-by-hop ones removed, except
    ``Transfer-Encoding``, which origin-response functions see and may not touch: a read-only
    header, "Restrictions on all edge functions")."""
    out: HeaderPairs = []
    named: set[str] = set()
    for pair in headers:
        lower = pair[0].lower()
        if lower == "connection":
            _connection_tokens(pair[1], named)
        elif lower not in _DROPPED_FROM_ORIGIN:
            out.append(pair)
    return _without(out, named) if named - _DROPPED_FROM_ORIGIN else out


def to_viewer(headers: HeaderPairs) -> tuple[HeaderPairs, bool]:
    """Headers safe to send to the viewer: no hop-by-hop ones, no framing (redone on send);
    and whether a ``Server`` header is among them (one pass: every answer goes through here)."""
    out: HeaderPairs = []
    has_server = False
    for pair in headers:
        lower = pair[0].lower()
        if lower in HOP_BY_HOP or lower == "content-length":
            continue
        if lower == "server":
            has_server = True
        out.append(pair)
    return out, has_server


def get(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (lower-case), or None."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None
