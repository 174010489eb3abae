"""CloudFront's rules for Lambda@Edge: triggers, header restrictions and size limits.

Pure data plus tiny predicates, shared by the policy validator, the result validator and the
emulator. Every limit here comes from AWS documentation; ``RESULT_RULES`` names, for each check
applied to what a function returns, the public AWS page (URL and section) that states it, or
says that none does (then the emulator only warns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Trigger = Literal["viewer-request", "origin-request", "origin-response", "viewer-response"]
TRIGGERS: Final[tuple[Trigger, ...]] = (
    "viewer-request",
    "origin-request",
    "origin-response",
    "viewer-response",
)


def trigger_named(value: object) -> Trigger | None:
    """The Trigger spelled ``value`` (text from a policy file or a command line), else None."""
    return next((t for t in TRIGGERS if t == value), None)


REQUEST_TRIGGERS: Final[frozenset[str]] = frozenset({"viewer-request", "origin-request"})
RESPONSE_TRIGGERS: Final[frozenset[str]] = frozenset({"origin-response", "viewer-response"})
VIEWER_TRIGGERS: Final[frozenset[str]] = frozenset({"viewer-request", "viewer-response"})

# Restrictions on all edge functions, "Disallowed headers" (_RESTRICTIONS_ALL below): headers a
# function may never see or set, on any trigger. Adding one fails validation
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

# Same page, "Read-only headers": headers a function may read but not add, change or delete.
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

# Restrictions on Lambda@Edge, "CloudFront headers": CloudFront adds this one after
# viewer-request; a viewer-request function adding it is a validation error.
CLOUDFRONT_VIEWER_COUNTRY: Final = "cloudfront-viewer-country"

# Quotas on Lambda@Edge (cloudfront-limits.html#limits-lambda-at-edge): limits by trigger.
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

# Restrictions on Lambda@Edge, "Restrictions on the request body with the include body option":
# Include Body exposes at most this much of a request body (base64-encoded in the event).
INCLUDE_BODY_LIMIT: Final[dict[str, int]] = {
    "viewer-request": 40 * 1024,
    "origin-request": 1024 * 1024,
}

# Same section: a body the function replaces (action "replace"), by encoding. The base64 figures are the
# documented 53.2 KB / 1.33 MB.
BODY_REPLACE_LIMIT: Final[dict[str, dict[str, int]]] = {
    "viewer-request": {"text": 40 * 1024, "base64": int(53.2 * 1024)},
    "origin-request": {"text": 1024 * 1024, "base64": int(1.33 * 1024 * 1024)},
}

# Lambda@Edge event structure, "Fields in the request object" (origin): origin settings a
# function may set in origin-request.
CUSTOM_ORIGIN_PORTS: Final[tuple[int, ...]] = (80, 443)  # or 1024-65535
SSL_PROTOCOLS: Final[frozenset[str]] = frozenset({"TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"})
S3_AUTH_METHODS: Final[frozenset[str]] = frozenset({"origin-access-identity", "none"})

# Quotas on general distributions (cloudfront-limits.html): CloudFront's request limits.
MAX_URL_BYTES: Final = 8192
MAX_REQUEST_HEADER_BYTES: Final = 20480

# Generate HTTP responses in request triggers, "Response object" (status): a status set by a
# function must be in this range.
MIN_STATUS: Final = 200
MAX_STATUS: Final = 599

# RFC 9110 token: the characters allowed in a header field name.
_TOKEN_RE: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Control characters other than horizontal tab are not allowed in a field value (RFC 9110
# §5.5); CloudFront refuses "invalid characters" in a result (Testing and debugging, below).
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def is_token(name: str) -> bool:
    """True if ``name`` is a valid HTTP header field name. ``fullmatch``: ``$`` alone would
    accept a trailing newline."""
    return bool(_TOKEN_RE.fullmatch(name))


# The search itself, bound once: result validation runs it on every header value.
find_control: Final = _CONTROL_RE.search


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
    capitalised (``content-type`` -> ``Content-Type``), as the event structure page says."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


# -- the checks applied to a function's result, with where AWS states them -------------------

_GUIDE: Final = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
_RESTRICTIONS_ALL: Final = _GUIDE + "edge-function-restrictions-all.html"
_RESTRICTIONS_LE: Final = _GUIDE + "lambda-at-edge-function-restrictions.html"
_EVENT: Final = _GUIDE + "lambda-event-structure.html"
_RESPONSES: Final = _GUIDE + "lambda-generating-http-responses.html"
_DEBUGGING: Final = _GUIDE + "lambda-edge-testing-debugging.html"
_QUOTAS: Final = _GUIDE + "cloudfront-limits.html#limits-lambda-at-edge"
_INVALID: Final = _DEBUGGING + "#lambda-edge-testing-debugging-troubleshooting-invalid-responses"


@dataclass(frozen=True)
class ResultRule:
    """One check CloudFront applies to a function's result. ``refuses`` is True when an AWS page
    states the rule (``source``, ``section``): breaking it is a 502 (or, for ``not-serialisable``,
    Lambda's own execution error). False means AWS documents nothing either way: the emulator
    serves the response and writes a warning instead."""

    id: str
    summary: str
    refuses: bool
    source: str = ""
    section: str = ""


_RULES: Final[tuple[ResultRule, ...]] = (
    ResultRule("not-serialisable", "the result is something Lambda's JSON encoder cannot write",
               True, "https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html#python-handler-return",
               "Returning a value"),
    ResultRule("not-json", "the result is not parsable JSON (NaN or Infinity in it)",
               True, _INVALID, "Troubleshooting invalid Lambda function responses"),
    ResultRule("not-object", "the result is not a JSON object",
               True, _INVALID, "Troubleshooting invalid Lambda function responses"),
    ResultRule("headers-shape", "headers is an object of lists of {key, value} with string values",
               True, _EVENT + "#response-event-fields-response", "Fields in the response object"),
    ResultRule("header-name", "a header name is an HTTP token",
               True, _INVALID, "Troubleshooting invalid Lambda function responses (invalid characters)"),
    ResultRule("header-value", "a header value has no control characters",
               True, _INVALID, "Troubleshooting invalid Lambda function responses (invalid characters)"),
    ResultRule("disallowed-header", "no disallowed header is added",
               True, _RESTRICTIONS_ALL + "#function-restrictions-disallowed-headers",
               "Disallowed headers"),
    ResultRule("read-only-header", "no read-only header is added, changed or deleted",
               True, _RESTRICTIONS_ALL + "#function-restrictions-read-only-headers",
               "Read-only headers"),
    ResultRule("viewer-country", "viewer-request does not add CloudFront-Viewer-Country",
               True, _RESTRICTIONS_LE + "#lambda-at-edge-restrictions-cloudfront-headers",
               "CloudFront headers"),
    ResultRule("status", "status is an HTTP status code from 200 to 599",
               True, _RESPONSES + "#lambda-generating-http-responses-object", "Response object"),
    ResultRule("viewer-response-status", "viewer-response does not change the status",
               True, _RESTRICTIONS_LE + "#lambda-at-edge-restrictions-status-codes",
               "HTTP status codes"),
    ResultRule("status-description", "statusDescription is a string without control characters",
               True, _INVALID, "Troubleshooting invalid Lambda function responses (invalid characters)"),
    ResultRule("body", "body is a string; bodyEncoding is text or base64; base64 is valid",
               True, _RESPONSES + "#lambda-generating-http-responses-object", "Response object"),
    ResultRule("body-204", "a 204 generated in viewer-request has no body",
               True, _RESPONSES + "#lambda-generating-http-responses-errors", "Errors"),
    ResultRule("response-size", "headers and body stay within 40 KB (viewer) or 1 MB (origin)",
               True, _QUOTAS, "Quotas that differ by event type"),
    ResultRule("uri", "the uri starts with /",
               True, _EVENT + "#request-event-fields-request", "Fields in the request object (uri)"),
    ResultRule("querystring", "a changed query string has no spaces, control characters or #",
               True, _RESTRICTIONS_ALL + "#function-restrictions-query-strings", "Query strings"),
    ResultRule("url-length", "uri and query string together stay under 8,192 characters",
               True, _RESTRICTIONS_ALL + "#function-restrictions-uri", "URI"),
    ResultRule("origin", "origin holds one custom or s3 origin with values in CloudFront's ranges",
               True, _EVENT + "#request-event-fields-request", "Fields in the request object (origin)"),
    ResultRule("origin-custom-headers", "customHeaders follow the header rules and repeat no request header",
               True, _EVENT + "#request-event-fields-request",
               "Fields in the request object (customHeaders)"),
    ResultRule("request-body", "a replaced request body has a valid action, encoding, data and size",
               True, _RESTRICTIONS_LE + "#lambda-at-edge-restrictions-request-body",
               "Restrictions on the request body with the include body option"),
    # Not stated anywhere by AWS: warnings.
    ResultRule("header-key", "an entry's key is its header's name (in any letter case)", False),
    ResultRule("header-key-case", "the keys of a headers object are lower-case", False),
    ResultRule("headers-missing", "a request or response that is not generated has headers", False),
    ResultRule("whole-event", "the result is the request or response, not the whole event", False),
)  # fmt: skip
RESULT_RULES: Final[dict[str, ResultRule]] = {rule.id: rule for rule in _RULES}
