"""What one distribution's cache behavior says about the requests the edge takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from edgeshield.emulator.pipeline.cache import TtlSettings

# A cache behavior's allowed methods are one of three sets (CloudFront's AllowedMethods):
# GET+HEAD, GET+HEAD+OPTIONS, or these seven. CloudFront answers any other method with 403.
ALL_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"})
GET_HEAD: Final = frozenset({"GET", "HEAD"})
CACHEABLE_METHODS: Final = ("GET", "HEAD")


@dataclass(frozen=True)
class EdgeSettings:
    pop: str
    region: str
    distribution_id: str = "EDFDVBD6EXAMPLE"
    distribution_domain: str = "d111111abcdef8.cloudfront.net"
    execution_error_status: int = 503
    cache_enabled: bool = True
    query_string: bool = False  # forward all query strings and key the cache on them
    forward_cookies: bool = False  # forward cookies and key the cache on them
    ttl: TtlSettings = field(default_factory=TtlSettings)
    max_object_bytes: int = 8 * 1024 * 1024  # larger bodies stream through uncached
    include_body: frozenset[str] = frozenset()  # the request triggers given the body
    allowed_methods: frozenset[str] = ALL_METHODS  # the cache behavior's allowed methods
