"""Conditional requests on both sides of the edge: revalidating an expired object with the
origin (its 304 updates what the cache holds), and answering a viewer's own conditional
request with 304. Pure."""

from __future__ import annotations

import email.utils
from typing import Final

from edgeshield.cloudfront import HeaderPairs
from edgeshield.emulator.pipeline import forwarding
from edgeshield.emulator.pipeline.cache import CachedObject

# What a 304 to the viewer keeps of the full response's headers.
KEEP_ON_304: Final = frozenset(
    {
        "etag",
        "last-modified",
        "cache-control",
        "expires",
        "vary",
        "date",
        "via",
        "age",
        "content-location",
        "server",
    }
)


def validators(stale: CachedObject) -> HeaderPairs:
    """The headers that ask the origin whether an expired object is still good."""
    out: HeaderPairs = []
    etag, modified = stale.validator("etag"), stale.validator("last-modified")
    if etag:
        out.append(("If-None-Match", etag))
    if modified:
        out.append(("If-Modified-Since", modified))
    return out


def with_age(entry: CachedObject, now: float) -> HeaderPairs:
    return aged(entry.headers, str(entry.age(now)))


def aged(headers: HeaderPairs, age: str) -> HeaderPairs:
    """A cached object's headers as a hit sends them: any Age replaced by the edge's own."""
    out = [pair for pair in headers if pair[0].lower() != "age"]
    out.append(("Age", age))
    return out


def merge_304(cached: HeaderPairs, fresh: HeaderPairs) -> HeaderPairs:
    """A 304's headers update the stored ones (RFC 9111 §4.3.4)."""
    updates = {
        n.lower() for n, _ in fresh if n.lower() not in ("content-length", "transfer-encoding")
    }
    kept = [(n, v) for n, v in cached if n.lower() not in updates]
    return kept + [(n, v) for n, v in fresh if n.lower() in updates]


def asks(request: HeaderPairs) -> bool:
    """Whether the viewer's request is conditional (If-None-Match or If-Modified-Since)."""
    return any(name.lower() in ("if-none-match", "if-modified-since") for name, _ in request)


def viewer_not_modified(request: HeaderPairs, response: HeaderPairs) -> bool:
    """Whether the viewer's If-None-Match / If-Modified-Since matches the response."""
    inm = forwarding.get(request, "if-none-match")
    ims = forwarding.get(request, "if-modified-since") if inm is None else None
    if inm is None and ims is None:
        return False  # most requests: nothing to compare, no need to read the response
    if inm is not None:
        etag = forwarding.get(response, "etag")
        if etag is None:
            return False
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    modified = forwarding.get(response, "last-modified")
    if ims is None or modified is None:
        return False
    try:
        return email.utils.parsedate_to_datetime(modified) <= email.utils.parsedate_to_datetime(ims)
    except (TypeError, ValueError, IndexError):
        return False


def not_modified_headers(headers: HeaderPairs) -> HeaderPairs:
    return [(n, v) for n, v in headers if n.lower() in KEEP_ON_304]
