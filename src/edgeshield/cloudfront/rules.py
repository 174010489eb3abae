"""CloudFront's rules for Lambda@Edge: triggers, header restrictions and size limits.

Pure data plus tiny predicates, shared by the policy validator, the result validator and the
emulator. Every rule here comes from AWS documentation; the section numbers refer to
``shared/reference/lambda-edge.md`` which gives the sources.
"""

from __future__ import annotations

import re
from typing import Final, Literal

Trigger = Literal["viewer-request", "origin-request", "origin-response", "viewer-response"]
TRIGGERS: Final[tuple[Trigger, ...]] = (
    "viewer-request",
    "origin-request",
    "origin-response",
    "viewer-response",
)
REQUEST_TRIGGERS: Final[frozenset[str]] = frozenset({"viewer-request", "origin-request"})
RESPONSE_TRIGGERS: Final[frozenset[str]] = frozenset({"origin-response", "viewer-response"})
VIEWER_TRIGGERS: Final[frozenset[str]] = frozenset({"viewer-request", "viewer-response"})

# §3.1: headers a function may never see or set, on any trigger. Adding one fails validation
# (502 LambdaValidationError). Lower-case; the two families below are prefixes.
DISALLOWED_HEADERS: Final[frozenset[str]] = frozenset(
    {
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "upgrade",
        "x-accel-buffering",
        "x-accel-charset",
        "x-accel-limit-rate",
        "x-accel-redirect",
        "x-amzn-auth",
        "x-amzn-cf-billing",
        "x-amzn-cf-id",
        "x-amzn-cf-xff",
        "x-amzn-errortype",
        "x-amzn-fle-profile",
        "x-amzn-header-count",
        "x-amzn-header-order",
        "x-amzn-lambda-integration-tag",
        "x-amzn-requestid",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    }
)
DISALLOWED_PREFIXES: Final[tuple[str, ...]] = ("x-amz-cf-", "x-edge-")

# §3.2: headers a function may read but not add, change or delete, per trigger.
READ_ONLY_HEADERS: Final[dict[str, frozenset[str]]] = {
    "viewer-request": frozenset({"content-length", "host", "transfer-encoding", "via"}),
    "origin-request": frozenset(
        {
            "accept-encoding",
            "content-length",
            "if-modified-since",
            "if-none-match",
            "if-range",
            "if-unmodified-since",
            "transfer-encoding",
            "via",
        }
    ),
    "origin-response": frozenset({"transfer-encoding", "via"}),
    "viewer-response": frozenset({"warning", "via"}),
}

# §2.2 / §2.6: CloudFront adds this one after viewer-request; a viewer-request function adding
# it is a validation error.
CLOUDFRONT_VIEWER_COUNTRY: Final = "cloudfront-viewer-country"

# §1.3: limits that differ by trigger.
TIMEOUT_SECONDS: Final[dict[str, float]] = {
    "viewer-request": 5.0,
    "viewer-response": 5.0,
    "origin-request": 30.0,
    "origin-response": 30.0,
}
# Size of a function-generated or body-replacing response (headers + body).
GENERATED_RESPONSE_LIMIT: Final[dict[str, int]] = {
    "viewer-request": 40 * 1024,
    "viewer-response": 40 * 1024,
    "origin-request": 1024 * 1024,
    "origin-response": 1024 * 1024,
}
PACKAGE_LIMIT_VIEWER: Final = 1024 * 1024  # compressed zip, viewer triggers
PACKAGE_LIMIT_ORIGIN: Final = 50 * 1024 * 1024  # compressed zip, origin triggers
MEMORY_MB_VIEWER: Final = 128

# §1.5: Include Body exposes at most this much of a request body (base64-encoded in the event).
INCLUDE_BODY_LIMIT: Final[dict[str, int]] = {
    "viewer-request": 40 * 1024,
    "origin-request": 1024 * 1024,
}

# §1.5: a body the function replaces (action "replace"), by encoding. The base64 figures are the
# documented 53.2 KB / 1.33 MB.
BODY_REPLACE_LIMIT: Final[dict[str, dict[str, int]]] = {
    "viewer-request": {"text": 40 * 1024, "base64": int(53.2 * 1024)},
    "origin-request": {"text": 1024 * 1024, "base64": int(1.33 * 1024 * 1024)},
}

# §2.3: origin settings a function may set in origin-request.
CUSTOM_ORIGIN_PORTS: Final[tuple[int, ...]] = (80, 443)  # or 1024-65535
SSL_PROTOCOLS: Final[frozenset[str]] = frozenset({"TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"})
S3_AUTH_METHODS: Final[frozenset[str]] = frozenset({"origin-access-identity", "none"})

# §3.5: CloudFront's request limits.
MAX_URL_BYTES: Final = 8192
MAX_REQUEST_HEADER_BYTES: Final = 20480

# §3.3: a status set by a function must be in this range.
MIN_STATUS: Final = 200
MAX_STATUS: Final = 599

# RFC 9110 token: the characters allowed in a header field name.
_TOKEN_RE: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Control characters other than horizontal tab are not allowed in a field value (RFC 9110
# §5.5); CloudFront rejects CR in a value (§2.5 of the reference).
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def is_token(name: str) -> bool:
    """True if ``name`` is a valid HTTP header field name. ``fullmatch``: ``$`` alone would
    accept a trailing newline."""
    return bool(_TOKEN_RE.fullmatch(name))


def control_character(value: str) -> str | None:
    """The first forbidden control character in a header value, or None."""
    match = _CONTROL_RE.search(value)
    return match.group(0) if match else None


def is_disallowed(name: str) -> bool:
    """True for a header CloudFront never lets a function see or set (any trigger)."""
    lower = name.lower()
    return lower in DISALLOWED_HEADERS or lower.startswith(DISALLOWED_PREFIXES)


def is_read_only(name: str, trigger: str) -> bool:
    """True for a header the function may not add, change or delete on ``trigger``."""
    return name.lower() in READ_ONLY_HEADERS.get(trigger, frozenset())


def canonical_key(name: str) -> str:
    """The ``key`` CloudFront fills in when a function omits it: each hyphen-separated word
    capitalised (``content-type`` -> ``Content-Type``), §2.5."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))
