"""The edge cache of one cache behavior: how long an object may be kept, and a bounded LRU.
Pure: the caller passes the clock.

TTL rules (CloudFront's "how long content stays in the cache", as we read them):
- ``Cache-Control: no-store``, ``no-cache`` or ``private``: not cached when the minimum TTL is
  0; otherwise cached for the minimum TTL.
- ``s-maxage`` (else ``max-age``, else ``Expires``) sets the TTL, clamped to [min, max].
- No directive: the default TTL (86400 s by default).
- Cacheable error statuses are kept for the error-caching minimum TTL (10 s) unless the origin
  says how long (AWS: "How CloudFront processes HTTP 4xx and 5xx status codes from your origin").
- Redirects follow the same rules, except 307 and 308, kept only when the response has a
  ``Cache-Control`` header (AWS: "How CloudFront processes HTTP 3xx status codes from your
  origin", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-3xx-status-codes.html).
"""

from __future__ import annotations

import contextlib
import email.utils
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, NamedTuple

DEFAULT_TTL: Final = 86400.0
MIN_TTL: Final = 0.0
MAX_TTL: Final = 31536000.0
ERROR_TTL: Final = 10.0

# Statuses cached by the TTL rules, by the error rules, and only with a Cache-Control header.
CACHEABLE: Final = frozenset({200, 203, 300, 301, 302, 303, 410})
CACHEABLE_ERRORS: Final = frozenset({400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504})
CACHEABLE_WITH_CACHE_CONTROL: Final = frozenset({307, 308})
_OVERHEAD: Final = 256  # bytes of bookkeeping per entry, counted against the budget


class HitMemo(NamedTuple):
    """What a hit sends, worked out once by the edge (see ``Cache.remember``)."""

    source: object  # the object's header list it was made from (a 304 replaces that list)
    policy: object  # the response headers policy applied, or None
    headers: list[tuple[str, str]]
    has_server: bool  # a Server header is among them
    age_at: int  # where Age's value goes (-1: nowhere)


@dataclass(frozen=True)
class TtlSettings:
    default: float = DEFAULT_TTL
    minimum: float = MIN_TTL
    maximum: float = MAX_TTL
    error: float = ERROR_TTL


def parse_cache_control(value: str) -> dict[str, str | None]:
    """``"public, max-age=60"`` -> ``{"public": None, "max-age": "60"}`` (names lower-cased)."""
    out: dict[str, str | None] = {}
    for part in value.split(","):
        name, eq, arg = part.strip().partition("=")
        name = name.strip().lower()
        if name:
            out[name] = arg.strip().strip('"') if eq else None
    return out


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = int(value)
    except ValueError:
        return None
    return float(max(seconds, 0))


def ttl_for(
    status: int, headers: Iterable[tuple[str, str]], settings: TtlSettings, now: float
) -> float | None:
    """Seconds the response may be served from cache, or None when it must not be stored.
    ``now`` is epoch seconds (for ``Expires``)."""
    directives: dict[str, str | None] = {}
    expires: str | None = None
    date: str | None = None
    cache_control = False
    for name, value in headers:
        lower = name.lower()
        if lower == "cache-control":
            parsed = parse_cache_control(value)
            cache_control = cache_control or bool(parsed)  # an empty one says nothing
            directives.update(parsed)
        elif lower == "expires":
            expires = value
        elif lower == "date":
            date = value

    explicit = _seconds(directives.get("s-maxage"))
    if explicit is None:
        explicit = _seconds(directives.get("max-age"))
    if explicit is None and expires is not None:
        explicit = _expires_in(expires, date, now)

    if status in CACHEABLE_ERRORS:
        if "no-store" in directives:
            return None
        return explicit if explicit is not None else settings.error
    if status not in CACHEABLE and not (status in CACHEABLE_WITH_CACHE_CONTROL and cache_control):
        return None
    if {"no-store", "no-cache", "private"} & directives.keys():
        return settings.minimum if settings.minimum > 0 else None
    ttl = settings.default if explicit is None else explicit
    ttl = min(max(ttl, settings.minimum), settings.maximum)
    return ttl if ttl > 0 else None


def _expires_in(expires: str, date: str | None, now: float) -> float:
    try:
        when = email.utils.parsedate_to_datetime(expires).timestamp()
    except (TypeError, ValueError, IndexError):
        return 0.0  # an invalid Expires means "already expired" (RFC 9111 §5.3)
    base = now
    if date is not None:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            base = email.utils.parsedate_to_datetime(date).timestamp()
    return max(0.0, when - base)


@dataclass
class CachedObject:
    """What the edge keeps: origin-response's output (or origin-request's generated response).

    CloudFront caches the answers to GET and HEAD. A HEAD answer (``head_only``) has no body:
    it serves later HEADs only, with ``head_length`` as the Content-Length it announced."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    stored_at: float  # monotonic seconds
    ttl: float
    generated: bool = False
    head_only: bool = False
    head_length: str | None = None
    size: int = field(init=False)
    hit_memo: HitMemo | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.size = len(self.body) + _headers_size(self.headers) + _OVERHEAD

    def age(self, now: float) -> int:
        return int(now - self.stored_at)

    def fresh(self, now: float) -> bool:
        return now - self.stored_at < self.ttl

    def validator(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class Cache:
    """An LRU bounded by bytes. Objects larger than ``max_object_bytes`` are never kept (nor
    one that grows past it: its hits' headers, a 304's new headers)."""

    def __init__(self, max_bytes: int, max_object_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_object_bytes = min(
            max_bytes, max_bytes // 4 if max_object_bytes is None else max_object_bytes
        )
        self._items: OrderedDict[str, CachedObject] = OrderedDict()
        self.bytes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> CachedObject | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, item: CachedObject) -> bool:
        if item.size > self.max_object_bytes:
            return False
        self.remove(key)
        self._items[key] = item
        self.bytes += item.size
        self._evict()
        return True

    def remember(self, key: str, item: CachedObject, memo: HitMemo) -> None:
        """Give ``item`` the headers its hits send, counted against the budget like its own
        headers (the memo's list, tuples and new strings take about as much memory as a small
        body)."""
        old, item.hit_memo = item.hit_memo, memo
        grown = _headers_size(memo.headers) - (_headers_size(old.headers) if old else 0)
        self._resize(key, item, grown)

    def revise(self, key: str, item: CachedObject, headers: list[tuple[str, str]]) -> None:
        """Replace ``item``'s headers (a 304 from the origin updates them), counting the
        difference against the budget."""
        grown = _headers_size(headers) - _headers_size(item.headers)
        item.headers = headers
        self._resize(key, item, grown)

    def _resize(self, key: str, item: CachedObject, grown: int) -> None:
        item.size += grown
        if self._items.get(key) is not item:  # evicted or replaced meanwhile: not counted
            return
        self.bytes += grown
        if item.size > self.max_object_bytes:  # too large to keep now: drop it, and only it
            self.remove(key)
            self.evictions += 1
        else:
            self._evict()

    def _evict(self) -> None:
        """Drop the least recently used objects until the cache is within its budget."""
        while self.bytes > self.max_bytes and self._items:
            _, old = self._items.popitem(last=False)
            self.bytes -= old.size
            self.evictions += 1

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0

    def remove(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old.size


def _headers_size(headers: list[tuple[str, str]]) -> int:
    """Bytes a header list is counted as: names, values, and a line's ": " and CRLF."""
    return sum(len(n) + len(v) + 4 for n, v in headers)
