"""The distribution's origin and what origin-request may turn it into.

``Origin`` is what answers a request that leaves the edge: ``DirOrigin`` (a folder served as
S3 would), ``HttpOrigin`` (custom origins over HTTP(S)) and ``MemoryOrigin`` (a function of
the request, for tests: no sockets) all have its one method.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from edgeshield.cloudfront import HeaderPairs
from edgeshield.emulator.pipeline.origin_fetch import (
    Body,
    CustomTarget,
    OriginRequest,
    OriginResponse,
)
from edgeshield.emulator.pipeline.results import wire_headers


class Origin(Protocol):
    async def fetch(self, request: OriginRequest) -> OriginResponse: ...


@dataclass
class OriginSetup:
    """The distribution's origin: a folder (as S3) or a custom origin."""

    event_origin: dict[str, Any]
    directory: Origin | None = None
    target: CustomTarget | None = None


@dataclass(slots=True)
class Route:
    """Where the request goes after origin-request: the origin object functions see, and the
    folder or custom target that answers for it."""

    event_origin: dict[str, Any]
    directory: Origin | None
    target: CustomTarget | None
    prefix: str = ""  # an S3 origin path, prepended to the key

    @classmethod
    def of(cls, setup: OriginSetup) -> Route:
        return cls(setup.event_origin, setup.directory, setup.target)


def resolve_route(changed: Any, current: Route, setup: OriginSetup) -> Route:
    """The route after origin-request changed the origin (already validated by then). The
    configured origin's own domain keeps its folder or loopback address; any other domain is
    a custom origin reached by its name."""
    if not isinstance(changed, dict) or changed == current.event_origin:
        return current
    if "custom" in changed:
        spec = changed["custom"]
        base = setup.target
        domain = str(spec["domainName"])
        connect_host = base.connect_host if base is not None and domain == base.domain else None
        read = spec.get("readTimeout")
        base_read = (setup.event_origin.get("custom") or {}).get("readTimeout")
        target = CustomTarget(
            protocol=str(spec.get("protocol", "https")),
            domain=domain,
            port=int(spec.get("port", 443)),
            path=str(spec.get("path", "")),
            connect_host=connect_host,
            read_timeout=float(read) if read is not None and read != base_read else None,
        )
        return Route(changed, None, target)
    spec = changed["s3"]
    domain = str(spec["domainName"])
    path = str(spec.get("path", ""))
    base_s3 = setup.event_origin.get("s3") or {}
    if setup.directory is not None and domain == base_s3.get("domainName"):
        return Route(changed, setup.directory, None, path)
    return Route(changed, None, CustomTarget("https", domain, 443, path))


@dataclass
class MemoryOrigin:
    """An origin answered by ``answer(request)`` (plain or async) in this process; it keeps
    every request it was sent, in order. As httpx's ``MockTransport``, for tests."""

    answer: Callable[[OriginRequest], OriginResponse | Awaitable[OriginResponse]]
    requests: list[OriginRequest] = field(default_factory=list)

    async def fetch(self, request: OriginRequest) -> OriginResponse:
        self.requests.append(request)
        response = self.answer(request)
        if inspect.isawaitable(response):
            response = await response
        return response


def static_response(
    status: int, headers: HeaderPairs, body: bytes = b"", reason: str = ""
) -> OriginResponse:
    """An origin answer with the whole body in memory."""
    return OriginResponse(status, reason, list(headers), Body(body))


def event_origin_domain(origin: Mapping[str, Any]) -> str:
    for kind in ("custom", "s3"):
        if kind in origin:
            return str(origin[kind].get("domainName", ""))
    return ""


def custom_headers(origin: Mapping[str, Any]) -> HeaderPairs:
    """The origin's custom headers, added to every request sent to it."""
    for kind in ("custom", "s3"):
        if kind in origin:
            return wire_headers(origin[kind].get("customHeaders") or {})
    return []
