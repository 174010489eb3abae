"""Build Lambda@Edge events the way CloudFront does, and convert headers to and from its form.

Shapes follow AWS's "Lambda@Edge event structure" (cited below as the event structure page,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html):
one record under ``Records``; ``config`` with
``distributionDomainName``, ``distributionId``, ``eventType`` and ``requestId``; headers keyed by
the lower-case name, each a list of ``{"key", "value"}``; ``status`` a string; ``querystring``
always present; ``origin`` only in origin events; ``response`` only in response events.
"""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final, TypeAlias

from edgeshield.cloudfront.rules import (
    DISALLOWED_HEADERS,
    DISALLOWED_PREFIXES,
    INCLUDE_BODY_LIMIT,
    REQUEST_TRIGGERS,
    RESPONSE_TRIGGERS,
    TRIGGERS,
    VIEWER_TRIGGERS,
    Trigger,
    canonical_key,
)
from edgeshield.errors import EdgeshieldError

Event: TypeAlias = dict[str, Any]
CfHeaders: TypeAlias = dict[str, list[dict[str, str]]]
HeaderPairs: TypeAlias = list[tuple[str, str]]
HeadersArg: TypeAlias = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]

DEFAULT_CLIENT_IP = "203.0.113.178"
DEFAULT_DISTRIBUTION_ID = "EDFDVBD6EXAMPLE"
DEFAULT_DISTRIBUTION_DOMAIN = "d111111abcdef8.cloudfront.net"
DEFAULT_ORIGIN_DOMAIN = "example.org"
# The edge-server id CloudFront puts in ``Via`` (value from the AWS origin-response example).
EDGE_ID = "8f22423015641505b8c857a37450d6c0"
DEFAULT_RESPONSE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/html; charset=utf-8"),
)


class EventError(EdgeshieldError, ValueError):
    """An event that is not valid JSON or not shaped like a Lambda@Edge event (also raised by
    ``build_event`` for arguments that cannot make one)."""


def new_request_id() -> str:
    """A fresh CloudFront-style request id: 56 URL-safe base64 characters ending in ``==``.
    An identifier, not a secret: a generator of its own (seeded from the OS once) gives it
    without a system call per request, whatever else seeds or draws from ``random``."""
    raw = _IDS.getrandbits(320).to_bytes(40, "big")
    # base64.urlsafe_b64encode, without its two Python-level calls per request.
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).decode("ascii")


_IDS: Final = random.Random()
_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")


# Header name -> (lower-case name, disallowed?): every event converts the same few names.
_NAME_FACTS: dict[str, tuple[str, bool]] = {}
_MAX_NAMES: Final = 4096


def _name_facts(name: str) -> tuple[str, bool]:
    lower = name.lower()
    facts = (lower, lower in DISALLOWED_HEADERS or lower.startswith(DISALLOWED_PREFIXES))
    if len(_NAME_FACTS) >= _MAX_NAMES:  # names chosen by viewers: keep the memo bounded
        _NAME_FACTS.clear()
    _NAME_FACTS[name] = facts
    return facts


def to_cf_headers(pairs: Iterable[tuple[str, str]], *, drop_disallowed: bool = True) -> CfHeaders:
    """HTTP header lines -> CloudFront's dict form, keeping order, repeats and the name's casing.

    CloudFront never shows a function the disallowed headers (AWS, "Restrictions on all edge
    functions", "Disallowed headers"), so they are dropped unless
    ``drop_disallowed`` is false.
    """
    out: CfHeaders = {}
    for name, value in pairs:
        facts = _NAME_FACTS.get(name)
        if facts is None:
            facts = _name_facts(name)
        lower, disallowed = facts
        if disallowed and drop_disallowed:
            continue
        bucket = out.get(lower)
        if bucket is None:
            out[lower] = [{"key": name, "value": value}]
        else:
            bucket.append({"key": name, "value": value})
    return out


def from_cf_headers(headers: Mapping[str, Iterable[Mapping[str, str]]]) -> HeaderPairs:
    """CloudFront's dict form -> HTTP header lines. A missing ``key`` becomes the name
    CloudFront would fill in (each hyphen-separated word capitalised, as the event structure
    page says).

    Assumes a validated dict (see ``validate.validate_result``)."""
    out: HeaderPairs = []
    append = out.append
    for name, entries in headers.items():
        for entry in entries:
            append((entry.get("key") or canonical_key(name), entry["value"]))
    return out


def header_pairs(headers: HeadersArg) -> HeaderPairs:
    """Accept either ``{"Name": "v" | ["v1", "v2"]}`` or ``[("Name", "v"), ...]``."""
    if isinstance(headers, Mapping):
        out: HeaderPairs = []
        for name, value in headers.items():
            if isinstance(value, str):
                out.append((name, value))
            else:
                out.extend((name, v) for v in value)
        return out
    return list(headers)


def custom_origin(
    domain_name: str = DEFAULT_ORIGIN_DOMAIN,
    *,
    port: int = 443,
    protocol: str = "https",
    path: str = "",
    read_timeout: int = 30,
    keepalive_timeout: int = 5,
    ssl_protocols: Sequence[str] = ("TLSv1", "TLSv1.1", "TLSv1.2"),
    custom_headers: HeadersArg = (),
) -> dict[str, Any]:
    """An ``origin`` object for a custom origin; defaults are the event structure page's
    origin-request example's."""
    return {
        "custom": {
            "customHeaders": to_cf_headers(header_pairs(custom_headers)),
            "domainName": domain_name,
            "keepaliveTimeout": keepalive_timeout,
            "path": path,
            "port": port,
            "protocol": protocol,
            "readTimeout": read_timeout,
            "sslProtocols": list(ssl_protocols),
        }
    }


def s3_origin(
    domain_name: str,
    *,
    path: str = "",
    auth_method: str = "none",
    region: str | None = None,
    custom_headers: HeadersArg = (),
) -> dict[str, Any]:
    """An ``origin`` object for an S3 origin (event structure page, "Request events");
    ``region`` is needed with an OAI."""
    s3: dict[str, Any] = {
        "authMethod": auth_method,
        "customHeaders": to_cf_headers(header_pairs(custom_headers)),
        "domainName": domain_name,
        "path": path,
    }
    if region is not None:
        s3["region"] = region
    return {"s3": s3}


def _origin_domain(origin: Mapping[str, Any]) -> str:
    for kind in ("custom", "s3"):
        if kind in origin:
            return str(origin[kind].get("domainName", DEFAULT_ORIGIN_DOMAIN))
    return DEFAULT_ORIGIN_DOMAIN


def _default_request_headers(
    trigger: str, client_ip: str, distribution_domain: str, origin: Mapping[str, Any] | None
) -> HeaderPairs:
    if trigger in VIEWER_TRIGGERS:
        # What a viewer sends (AWS viewer-request example).
        return [("Host", distribution_domain), ("User-Agent", "curl/7.66.0"), ("accept", "*/*")]
    # What CloudFront sends the origin by then (the event structure page's origin-request example).
    return [
        ("X-Forwarded-For", client_ip),
        ("User-Agent", "Amazon CloudFront"),
        ("Via", f"2.0 {EDGE_ID}.cloudfront.net (CloudFront)"),
        ("Host", _origin_domain(origin or {})),
        ("Cache-Control", "no-cache, cf-no-cache"),
    ]


def _body(trigger: str, body: bytes | None) -> dict[str, Any]:
    """The Include Body object ("Restrictions on Lambda@Edge", "Restrictions on the request body
    with the include body option"): base64 of at most the trigger's limit, read-only."""
    data = body or b""
    limit = INCLUDE_BODY_LIMIT[trigger]
    return {
        "inputTruncated": len(data) > limit,
        "action": "read-only",
        "encoding": "base64",
        "data": base64.b64encode(data[:limit]).decode("ascii"),
    }


def build_event(
    trigger: Trigger,
    *,
    uri: str = "/",
    method: str = "GET",
    querystring: str = "",
    headers: HeadersArg | None = None,
    client_ip: str = DEFAULT_CLIENT_IP,
    status: int | str = 200,
    status_description: str | None = None,
    response_headers: HeadersArg | None = None,
    origin: dict[str, Any] | None = None,
    distribution_id: str = DEFAULT_DISTRIBUTION_ID,
    distribution_domain: str = DEFAULT_DISTRIBUTION_DOMAIN,
    request_id: str | None = None,
    body: bytes | None = None,
    include_body: bool = False,
) -> Event:
    """One Lambda@Edge event for ``trigger``, shaped exactly like CloudFront's.

    ``headers`` are the request headers the function sees (default: a viewer's for viewer
    triggers, CloudFront's origin-facing ones for origin triggers). ``origin`` defaults to
    ``custom_origin()`` on origin triggers and is refused on viewer triggers. ``body`` is only
    exposed with ``include_body`` (request triggers only). Disallowed headers are left out.
    """
    if trigger not in TRIGGERS:
        raise EventError(f"unknown trigger {trigger!r}; expected one of {', '.join(TRIGGERS)}")
    is_origin = trigger not in VIEWER_TRIGGERS
    if origin is not None and not is_origin:
        raise EventError(f"{trigger} events have no origin")
    if include_body and trigger not in REQUEST_TRIGGERS:
        raise EventError(f"Include Body exists only for request triggers, not {trigger}")
    if is_origin and origin is None:
        origin = custom_origin()

    if headers is None:
        pairs = _default_request_headers(trigger, client_ip, distribution_domain, origin)
    else:  # the edge passes its header lists as they are: no copy, no Mapping check
        pairs = headers if type(headers) is list else header_pairs(headers)
    request: dict[str, Any] = {
        "clientIp": client_ip,
        "headers": to_cf_headers(pairs),
        "method": method,
    }
    if origin is not None:
        request["origin"] = origin
    request["querystring"] = querystring
    request["uri"] = uri
    if include_body:
        request["body"] = _body(trigger, body)

    cf: dict[str, Any] = {
        "config": {
            "distributionDomainName": distribution_domain,
            "distributionId": distribution_id,
            "eventType": trigger,
            "requestId": request_id or new_request_id(),
        },
        "request": request,
    }
    if trigger in RESPONSE_TRIGGERS:
        code = int(status)
        if status_description is None:
            try:
                status_description = HTTPStatus(code).phrase
            except ValueError:
                status_description = ""
        given = DEFAULT_RESPONSE_HEADERS if response_headers is None else response_headers
        resp_pairs = given if type(given) is list else header_pairs(given)
        cf["response"] = {
            "headers": to_cf_headers(resp_pairs),
            "status": str(code),
            "statusDescription": status_description,
        }
    return {"Records": [{"cf": cf}]}


def viewer_request_event(**kwargs: Any) -> Event:
    """``build_event("viewer-request", ...)``."""
    return build_event("viewer-request", **kwargs)


def origin_request_event(**kwargs: Any) -> Event:
    """``build_event("origin-request", ...)``."""
    return build_event("origin-request", **kwargs)


def origin_response_event(**kwargs: Any) -> Event:
    """``build_event("origin-response", ...)``."""
    return build_event("origin-response", **kwargs)


def viewer_response_event(**kwargs: Any) -> Event:
    """``build_event("viewer-response", ...)``."""
    return build_event("viewer-response", **kwargs)
