"""Check what a Lambda@Edge function returned the way CloudFront does.

``check_result`` returns every finding as a ``Violation``: its ``rule`` names the entry of
``rules.RESULT_RULES`` that says which AWS page states the rule. A rule AWS states refuses the
result (``kind`` "validation", a 502, or "execution"); a rule AWS states nowhere only warns
(``kind`` "warning"): "undocumented is not forbidden". ``validate_result`` keeps the refusals:
an empty list means CloudFront accepts the result. ``message`` is the line CloudFront logs (its
own wording where known, from real CloudFront logs quoted in public issues) and ``page`` the
sentence on the 502 error page the viewer gets.

It runs on every emulated request, so the common path (a response with a few headers changed)
does a handful of dict operations per header; per-name checks are cached.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Final, Literal

from edgeshield.cloudfront.rules import (
    BODY_REPLACE_LIMIT,
    CLOUDFRONT_VIEWER_COUNTRY,
    CUSTOM_ORIGIN_PORTS,
    DISALLOWED_HEADERS,
    DISALLOWED_PREFIXES,
    GENERATED_RESPONSE_LIMIT,
    MAX_STATUS,
    MAX_URL_BYTES,
    MIN_STATUS,
    READ_ONLY_HEADERS,
    REQUEST_TRIGGERS,
    RESPONSE_TRIGGERS,
    RESULT_RULES,
    S3_AUTH_METHODS,
    SSL_PROTOCOLS,
    VIEWER_TRIGGERS,
    canonical_key,
    control_character,
    find_control,
    is_token,
)

# The sentences CloudFront shows on its 502/503 page. The first six are CloudFront's own words
# (seen on real error pages quoted in public issues); the last two are ours, in the same style.
PAGE_NOT_PARSABLE: Final = (
    "The Lambda function returned invalid JSON: The JSON output is not parsable."
)
PAGE_NOT_OBJECT: Final = (
    "The Lambda function returned invalid JSON: The JSON output must be an object type."
)
PAGE_READ_ONLY: Final = (
    "The Lambda function result failed validation: "
    "The function tried to add, delete, or change a read-only header."
)
PAGE_DISALLOWED: Final = (
    "The Lambda function result failed validation: The function tried to add a blacklisted header."
)
PAGE_BODY: Final = (
    "The Lambda function result failed validation: "
    "The body is not a string, is not an object, or exceeds the maximum size."
)
PAGE_ORIGIN_HEADERS: Final = (
    "The Lambda function returned an invalid origin configuration: "
    "One or more HeaderName or HeaderValue values are invalid."
)
PAGE_EXECUTION: Final = (
    "The Lambda function associated with the CloudFront distribution is invalid "
    "or doesn't have the required permissions."
)
PAGE_ORIGIN: Final = "The Lambda function returned an invalid origin configuration."
PAGE_INVALID: Final = "The Lambda function result failed validation: The result is not valid."

_FAILED: Final = "Lambda function result failed validation, "
_IPV4_RE: Final = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_QUERY_BAD_RE: Final = re.compile(r"[\x00-\x20\x7f#]")
# Sorted so violations come out in the same order on every run.
_READ_ONLY: Final = {trigger: tuple(sorted(names)) for trigger, names in READ_ONLY_HEADERS.items()}


@dataclass(frozen=True)
class Violation:
    """One finding about a result.

    ``kind`` "validation" maps to a 502 ``LambdaValidationError``; "execution" (a result Lambda
    cannot even serialise) to a ``LambdaExecutionError``; "warning" to nothing at all: the
    response is served (AWS documents no such rule). ``header`` names the header at fault, as
    CloudFront prints it. ``page`` is the viewer-facing sentence for the error page. ``rule`` is
    the key of the rule in ``rules.RESULT_RULES``.
    """

    kind: Literal["validation", "execution", "warning"]
    message: str
    header: str | None = None
    page: str = field(default=PAGE_INVALID, compare=False)
    rule: str = field(default="", compare=False)


def _refused(
    rule: str, message: str, header: str | None = None, page: str = PAGE_INVALID
) -> Violation:
    assert RESULT_RULES[rule].refuses, rule
    return Violation("validation", message, header, page, rule)


def _warned(rule: str, message: str, header: str | None = None) -> Violation:
    assert not RESULT_RULES[rule].refuses, rule
    return Violation("warning", message, header, rule=rule)


def result_kind(trigger: str, result: Any) -> Literal["request", "response"]:
    """What a result stands for: response triggers return the response; request triggers
    return the request, or a generated response (recognised by its ``status``), as AWS's
    "Generate HTTP responses in request triggers" describes."""
    if trigger in RESPONSE_TRIGGERS:
        return "response"
    return "response" if isinstance(result, dict) and "status" in result else "request"


def validate_result(trigger: str, event: dict[str, Any], result: Any) -> list[Violation]:
    """Every reason CloudFront would reject ``result`` returned by a ``trigger`` function that
    was given ``event``; ``[]`` when it would accept it."""
    return [v for v in check_result(trigger, event, result) if v.kind != "warning"]


def check_result(
    trigger: str, event: dict[str, Any], result: Any, *, serialisable: bool = False
) -> list[Violation]:
    """``validate_result``'s refusals plus warnings about what AWS documents nowhere (the
    response is served anyway). ``serialisable``: the caller knows ``result`` re-encodes as
    strict JSON (it was just decoded from JSON text without NaN/Infinity), so the costliest
    check, encoding it again, is skipped; the verdict is the same."""
    if trigger not in READ_ONLY_HEADERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    marshal = None if serialisable else _marshal_problem(result)
    if marshal:
        return [marshal]
    if not isinstance(result, dict):
        return [_refused("not-object", PAGE_NOT_OBJECT, page=PAGE_NOT_OBJECT)]

    cf = event["Records"][0]["cf"]
    out: list[Violation] = []
    kind = result_kind(trigger, result)
    if "Records" in result:
        # What the function should have returned: a request trigger's event holds no response.
        field = "response" if trigger in RESPONSE_TRIGGERS else "request"
        out.append(
            _warned(
                "whole-event",
                f"the result has the event's Records key: {_a(trigger)} function returns "
                f"event['Records'][0]['cf']['{field}']"
                + (" (or a response of its own)" if field == "request" else "")
                + f", not the event; AWS documents nothing about other keys (served as a "
                f"{kind} without them).",
            )
        )
    if kind == "response":
        original = cf.get("response") if trigger in RESPONSE_TRIGGERS else None
        _check_response(trigger, result, original, out)
    else:
        _check_request(trigger, result, cf.get("request") or {}, out)
    return out


# Lambda serialises the handler's return value as JSON; a prebuilt encoder is the cheapest way
# to ask whether that works (most of the validation time goes here).
_ENCODER: Final = json.JSONEncoder(check_circular=False, allow_nan=False)


def _marshal_problem(result: Any) -> Violation | None:
    try:
        _ENCODER.encode(result)
    except ValueError:
        # NaN/Infinity: Python's json writes them as bare NaN/Infinity, which is not JSON (RFC
        # 8259), and AWS lists unparsable JSON as a validation error.
        return _refused("not-json", PAGE_NOT_PARSABLE, page=PAGE_NOT_PARSABLE)
    except (TypeError, RecursionError) as exc:
        # What Lambda cannot serialise never reaches CloudFront: Runtime.MarshalError, an
        # execution error.
        detail = "the result contains itself" if isinstance(exc, RecursionError) else str(exc)
        return Violation(
            "execution",
            f"Runtime.MarshalError: Unable to marshal response: {detail}",
            page=PAGE_EXECUTION,
            rule="not-serialisable",
        )
    return None


@lru_cache(maxsize=4096)
def _name_facts(name: str) -> tuple[bool, bool, bool]:
    """(is lower-case, is a token, is disallowed) for a header dict key."""
    lower = name.lower()
    return (
        name == lower,
        is_token(name),
        lower in DISALLOWED_HEADERS or lower.startswith(DISALLOWED_PREFIXES),
    )


# Keys with nothing to say about them (lower-case tokens a function may set): most keys of
# every result, so the header loop looks them up here before anything else.
_PLAIN_NAMES: set[str] = set()


def _display(name: str, entries: Any) -> str:
    """The header's name as CloudFront prints it: the ``key`` of its first entry if any."""
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        key = entries[0].get("key")
        if isinstance(key, str) and key:
            return key
    return canonical_key(name)


def _check_headers(
    headers: Any,
    where: str,
    original: dict[str, Any] | None,
    read_only: tuple[str, ...],
    out: list[Violation],
) -> None:
    """Check one headers object. ``original`` is the event's headers (None for a generated
    response): disallowed headers already there are not "added", and read-only headers must
    match it exactly (in a generated response, must be absent)."""
    if not isinstance(headers, dict):
        out.append(_refused("headers-shape", f"{_FAILED}the {where} field must be an object."))
        return
    for name, entries in headers.items():
        if name in _PLAIN_NAMES and type(entries) is list:
            _check_entries(name, entries, where, out)
            continue
        if not isinstance(name, str):
            # Lambda's JSON encoder writes 1 as "1" and None as "null": CloudFront only ever
            # sees the text, so judge that.
            name = _json_key(name)
        if _check_name(name, entries, where, original, out):
            _check_entries(name, entries, where, out)
    for ro in read_only:
        # A generated response has no original: any read-only header in it is an addition.
        # AWS lists read-only headers per event, generated responses not excepted; users met
        # the 502 for a Content-Length in an origin-request function's response (Mangum,
        # OpenNext). At viewer-request the same documented list applies, unconfirmed by a report.
        _check_read_only(
            ro, original.get(ro) if original is not None else None, headers.get(ro), out
        )


def _check_name(
    name: str, entries: Any, where: str, original: dict[str, Any] | None, out: list[Violation]
) -> bool:
    """The checks on a header's dict key; False when its entries are not worth checking."""
    lower_ok, token_ok, disallowed = _name_facts(name)
    if lower_ok and token_ok and not disallowed:
        # Remembered here, not inside the lru-cached function: a name whose facts are still
        # cached comes back into the set after the set was emptied.
        if len(_PLAIN_NAMES) >= 4096:  # names chosen by functions: keep the set bounded
            _PLAIN_NAMES.clear()
        _PLAIN_NAMES.add(name)
    if not token_ok:
        out.append(
            _refused(
                "header-name",
                f"{_FAILED}the function returned an invalid header name, headerName : {name}.",
                name,
            )
        )
        return False
    if disallowed and (original is None or name not in original):
        shown = _display(name, entries)
        out.append(
            _refused(
                "disallowed-header",
                f"{_FAILED}the function tried to add a blacklisted header in {where}, "
                f"headerName : {shown}.",
                shown,
                PAGE_DISALLOWED,
            )
        )
    if not lower_ok:
        out.append(
            _warned(
                "header-key-case",
                f"the keys of the {where} object are lower-case header names in CloudFront's "
                f"events, got {name!r}; AWS documents no rule for other keys (served as is).",
                name,
            )
        )
    if not isinstance(entries, list):
        out.append(_bad_entry(name, "its value must be an array of {key, value} objects"))
        return False
    return True


def _check_entries(name: str, entries: list[Any], where: str, out: list[Violation]) -> None:
    """The ``{key, value}`` entries of one header."""
    lower = name.lower()
    for entry in entries:
        # The usual entry first, in as few steps as possible (this runs for every header of
        # every result): a plain dict, a clean string value, a key naming this header.
        if type(entry) is dict:
            value = entry.get("value")
            key = entry.get("key")
            if (
                type(value) is str
                # Printable ASCII has no control character: a flag test and one C loop,
                # where the regular expression costs several times more per character.
                and ((value.isascii() and value.isprintable()) or not find_control(value))
                and (key is None or (type(key) is str and key.lower() == lower))
            ):
                continue
        _check_entry(name, lower, entry, entries, where, out)


def _check_entry(
    name: str, lower: str, entry: Any, entries: list[Any], where: str, out: list[Violation]
) -> None:
    """One entry that is not plainly fine: say what is wrong with it, if anything."""
    if type(entry) is not dict and not isinstance(entry, dict):
        out.append(_bad_entry(name, "each entry must be a {key, value} object"))
        return
    value = entry.get("value")
    if type(value) is not str and not isinstance(value, str):
        out.append(_bad_entry(name, "each entry needs a string value"))
    elif find_control(value):
        bad = control_character(value)
        assert bad is not None
        shown = _display(name, entries)
        out.append(
            _refused(
                "header-value",
                "Lambda function result validation failed, the function returned an "
                f"invalid header, invalid character : '%{ord(bad):02X}' in header "
                f"value, headerName : {shown}.",
                shown,
            )
        )
    key = entry.get("key")
    if key is not None and (type(key) is not str or key.lower() != lower):
        if isinstance(key, str) and key.lower() == lower:
            return  # a str subclass spelling the same name
        # AWS's own "Overriding a response header" example copies another header's
        # entry, key included; the header name is the dict key's.
        out.append(
            _warned(
                "header-key",
                f"the key {key!r} of an entry in {where}[{name!r}] is not that header's "
                f"name; AWS documents no rule for this: served as {canonical_key(name)}.",
                name,
            )
        )


def _json_key(name: Any) -> str:
    """A dict key as Python's json module writes it."""
    return json.dumps(name) if isinstance(name, bool) or name is None else str(name)


def _bad_entry(name: str, why: str) -> Violation:
    # CloudFront's own wording for a non-string value, followed by what exactly is wrong.
    return _refused(
        "headers-shape",
        "The Lambda function returned an invalid entry in the headers object, the value of each "
        f"header value must be of string or array of string type, header :{name} has one or "
        f"more entries whose value is neither string nor array of strings ({why}).",
        name,
    )


def _values(entries: Any) -> list[Any]:
    if not isinstance(entries, list):
        return [] if entries is None else [entries]
    return [e.get("value") if isinstance(e, dict) else e for e in entries]


def _check_read_only(name: str, before: Any, after: Any, out: list[Violation]) -> None:
    old, new = _values(before), _values(after)
    if old == new:
        return
    verb = "add" if not old else "delete" if not new else "change"
    shown = _display(name, before if old else after)
    out.append(
        _refused(
            "read-only-header",
            f"{_FAILED}the function tried to {verb} read-only header, headerName : {shown}.",
            shown,
            PAGE_READ_ONLY,
        )
    )


def _status_code(status: Any) -> int | None:
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    if isinstance(status, str) and status.isascii() and status.isdigit():
        return int(status)
    return None


def _check_response(
    trigger: str, resp: dict[str, Any], original: dict[str, Any] | None, out: list[Violation]
) -> None:
    """A response trigger's response (``original`` = the event's) or a generated one (None)."""
    generated = original is None
    code = _check_status(trigger, resp, original, out)
    description = resp.get("statusDescription")
    if description is not None and (
        not isinstance(description, str) or control_character(description) is not None
    ):
        out.append(
            _refused(
                "status-description",
                f"{_FAILED}statusDescription must be a string without control characters.",
            )
        )

    read_only = _READ_ONLY[trigger]
    original_headers = original.get("headers", {}) if original is not None else None
    if "headers" in resp or original_headers is None:
        headers = resp.get("headers", {})
        _check_headers(headers, "headers", original_headers, read_only, out)
    else:  # nothing to check: the response keeps the headers it was given
        headers = original_headers
        out.append(_headers_missing("response"))

    body = resp.get("body")
    if body is None and not generated and "bodyEncoding" not in resp:
        return  # the common case: headers changed, the origin's body kept
    size_body = _check_body(trigger, resp, code, out)
    if size_body is not None and (generated or body is not None):
        size = size_body + _headers_size(headers)
        limit = GENERATED_RESPONSE_LIMIT[trigger]
        if size > limit:
            out.append(
                _refused(
                    "response-size",
                    f"{_FAILED}the response is {size} bytes (headers and body); "
                    f"{_a(trigger)} function may return at most {limit} bytes.",
                    page=PAGE_BODY,
                )
            )


def _a(trigger: str) -> str:
    """The trigger's name with its article: "a viewer-request", "an origin-response"."""
    return f"{'an' if trigger.startswith('origin') else 'a'} {trigger}"


def _headers_missing(kind: str) -> Violation:
    """A request or response result without ``headers``. CloudFront's events and AWS's examples
    always carry them, and AWS says nothing of leaving them out; the edge keeps the headers the
    function was given (as it keeps a status, uri or body left out), and says so."""
    return _warned(
        "headers-missing",
        f"the {kind} has no headers field; AWS documents nothing about leaving it out "
        f"(served with the headers the function was given).",
    )


def _check_status(
    trigger: str, resp: dict[str, Any], original: dict[str, Any] | None, out: list[Violation]
) -> int | None:
    """The result's status code (None when it sets none or an unreadable one)."""
    code: int | None = None
    if "status" in resp:
        code = _status_code(resp["status"])
        if code is None:
            out.append(
                _refused(
                    "status",
                    f'{_FAILED}the status must be an HTTP status code like "200", '
                    f"got {resp['status']!r}.",
                )
            )
        elif not MIN_STATUS <= code <= MAX_STATUS:
            out.append(
                _refused(
                    "status",
                    f"{_FAILED}the status must be between {MIN_STATUS} and {MAX_STATUS}, "
                    f"got {code}.",
                )
            )
    if (
        trigger == "viewer-response"
        and original is not None
        and code is not None
        and code != _status_code(original.get("status"))
    ):
        out.append(
            _refused(
                "viewer-response-status",
                f"{_FAILED}a viewer-response function cannot change the status code "
                f"({original.get('status')} -> {code}).",
            )
        )
    return code


def _check_body(
    trigger: str, resp: dict[str, Any], code: int | None, out: list[Violation]
) -> int | None:
    """The body's size in bytes (0 without one), or None when the body is refused."""
    body = resp.get("body")
    if body is not None and not isinstance(body, str):
        out.append(_refused("body", f"{_FAILED}the body must be a string.", page=PAGE_BODY))
        return None
    encoding = resp.get("bodyEncoding", "text")
    if encoding not in ("text", "base64"):
        out.append(
            _refused(
                "body",
                f'{_FAILED}bodyEncoding must be "text" or "base64", got {encoding!r}.',
                page=PAGE_BODY,
            )
        )
        return None
    if body is None:
        return 0
    if encoding == "base64":
        try:
            size = len(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            out.append(
                _refused(
                    "body",
                    f"{_FAILED}the body is not valid base64 although bodyEncoding is base64.",
                    page=PAGE_BODY,
                )
            )
            return None
    else:
        size = len(body.encode("utf-8", "surrogatepass"))
    if trigger == "viewer-request" and code == 204:
        # A 204 generated in viewer-request must not have a body field at all ("Errors").
        out.append(
            _refused(
                "body-204",
                f"{_FAILED}a 204 (No Content) response generated in viewer-request must not "
                "have a body.",
                page=PAGE_BODY,
            )
        )
    return size


def _headers_size(headers: Any) -> int:
    """Bytes of the headers on the wire, ``Name: value\\r\\n`` each."""
    if not isinstance(headers, dict):
        return 0
    size = 0
    for name, entries in headers.items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("value"), str):
                key = entry.get("key")
                size += len(key if isinstance(key, str) else str(name)) + len(entry["value"]) + 4
    return size


def _check_request(
    trigger: str, req: dict[str, Any], original: dict[str, Any], out: list[Violation]
) -> None:
    original_headers = original.get("headers") or {}
    if "headers" in req:
        headers = req["headers"]
        _check_headers(headers, "headers", original_headers, _READ_ONLY[trigger], out)
    else:  # nothing to check: the request keeps the headers it was given
        headers = original_headers
        out.append(_headers_missing("request"))
    if (
        trigger == "viewer-request"
        and isinstance(headers, dict)
        and CLOUDFRONT_VIEWER_COUNTRY in headers
        and CLOUDFRONT_VIEWER_COUNTRY not in original_headers
    ):
        # CloudFront adds this header itself, after viewer-request ("CloudFront headers").
        out.append(
            _refused(
                "viewer-country",
                f"{_FAILED}a viewer-request function cannot add CloudFront-Viewer-Country.",
                "CloudFront-Viewer-Country",
            )
        )

    uri = req.get("uri", original.get("uri", "/"))
    querystring = req.get("querystring", original.get("querystring", ""))
    if not isinstance(uri, str) or not uri.startswith("/"):
        out.append(_refused("uri", f"{_FAILED}the uri must start with '/', got {uri!r}."))
        uri = "/"
    if not isinstance(querystring, str):
        out.append(_refused("querystring", f"{_FAILED}the querystring must be a string."))
        querystring = ""
    elif querystring != original.get("querystring", "") and _QUERY_BAD_RE.search(querystring):
        out.append(
            _refused(
                "querystring",
                f"{_FAILED}the querystring must not contain spaces, control characters or '#'.",
            )
        )
    length = len(uri) + (len(querystring) + 1 if querystring else 0)
    if length >= MAX_URL_BYTES:
        out.append(
            _refused(
                "url-length",
                f"{_FAILED}the uri and querystring are {length} characters together; "
                f"they must be fewer than {MAX_URL_BYTES}.",
            )
        )

    if trigger not in VIEWER_TRIGGERS and "origin" in req:
        _check_origin(req["origin"], headers if isinstance(headers, dict) else {}, out)
    if req.get("body") is not None and trigger in REQUEST_TRIGGERS:
        _check_request_body(trigger, req["body"], out)


def _origin_problem(detail: str) -> Violation:
    return _refused(
        "origin",
        f"The Lambda function returned an invalid origin configuration: {detail}.",
        page=PAGE_ORIGIN,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_origin_path(path: Any, max_len: int | None, out: list[Violation]) -> None:
    # "" (no path) or "/like/this" with no trailing slash (event structure, origin path).
    if not isinstance(path, str) or (
        path
        and (
            not path.startswith("/")
            or path.endswith("/")
            or (max_len is not None and len(path) > max_len)
        )
    ):
        limit = f", at most {max_len} characters" if max_len else ""
        out.append(
            _origin_problem(
                f"path must be empty or start with '/' and not end with '/'{limit}; got {path!r}"
            )
        )


def _check_origin(origin: Any, request_headers: dict[str, Any], out: list[Violation]) -> None:
    """Exactly one of ``custom`` or ``s3``, with values in the ranges the event structure
    page gives."""
    if (
        not isinstance(origin, dict)
        or len(origin) != 1
        or next(iter(origin)) not in ("custom", "s3")
    ):
        out.append(_origin_problem("origin must hold exactly one of custom or s3"))
        return
    kind, spec = next(iter(origin.items()))
    if not isinstance(spec, dict):
        out.append(_origin_problem(f"origin.{kind} must be an object"))
        return
    domain = spec.get("domainName")
    if kind == "custom":
        if (
            not isinstance(domain, str)
            or not 0 < len(domain) <= 253
            or ":" in domain
            or _IPV4_RE.match(domain)
        ):
            out.append(
                _origin_problem(
                    f"domainName must be a DNS name of at most 253 characters, without ':' and "
                    f"not an IP address; got {domain!r}"
                )
            )
        port = spec.get("port", 443)
        if not _is_int(port) or not (port in CUSTOM_ORIGIN_PORTS or 1024 <= port <= 65535):
            out.append(_origin_problem(f"port must be 80, 443 or 1024-65535; got {port!r}"))
        if spec.get("protocol", "https") not in ("http", "https"):
            out.append(_origin_problem(f"protocol must be http or https; got {spec['protocol']!r}"))
        _check_origin_path(spec.get("path", ""), 255, out)
        for name, low, high in (("readTimeout", 4, 60), ("keepaliveTimeout", 1, 60)):
            value = spec.get(name, low)
            if not _is_int(value) or not low <= value <= high:
                out.append(_origin_problem(f"{name} must be {low}-{high} seconds; got {value!r}"))
        protocols = spec.get("sslProtocols", [])
        if not isinstance(protocols, list) or any(p not in SSL_PROTOCOLS for p in protocols):
            out.append(
                _origin_problem(
                    f"sslProtocols must list values from {', '.join(sorted(SSL_PROTOCOLS))}; "
                    f"got {protocols!r}"
                )
            )
    else:
        if not isinstance(domain, str) or not 0 < len(domain) <= 128 or domain != domain.lower():
            out.append(
                _origin_problem(
                    f"an S3 domainName must be a lower-case bucket DNS name of at most 128 "
                    f"characters; got {domain!r}"
                )
            )
        auth = spec.get("authMethod", "none")
        if auth not in S3_AUTH_METHODS:
            out.append(
                _origin_problem(f"authMethod must be origin-access-identity or none; got {auth!r}")
            )
        elif auth == "origin-access-identity" and not isinstance(spec.get("region"), str):
            out.append(
                _origin_problem("region is required when authMethod is origin-access-identity")
            )
        _check_origin_path(spec.get("path", ""), None, out)

    custom_headers = spec.get("customHeaders", {})
    found: list[Violation] = []
    _check_headers(custom_headers, "customHeaders", None, (), found)
    if isinstance(custom_headers, dict):
        found.extend(
            _refused(
                "origin-custom-headers",
                f"The Lambda function returned an invalid origin configuration: the custom header "
                f"{name!r} is also in the request headers.",
                name,
            )
            for name in custom_headers
            if name in request_headers
        )
    out.extend(replace(v, page=PAGE_ORIGIN_HEADERS) for v in found)


def _check_request_body(trigger: str, body: Any, out: list[Violation]) -> None:
    """The Include Body object a request function may hand back (event structure, body)."""
    if not isinstance(body, dict):
        # A string body is what a generated response has: the function most likely meant one
        # and left out its status, the one field that makes a result a response.
        hint = " (a generated response needs a status)" if isinstance(body, str) else ""
        out.append(
            _refused(
                "request-body",
                f"{_FAILED}the request body must be an object{hint}.",
                page=PAGE_BODY,
            )
        )
        return
    action = body.get("action", "read-only")
    if action not in ("read-only", "replace"):
        out.append(
            _refused(
                "request-body",
                f'{_FAILED}body.action must be "read-only" or "replace", got {action!r}.',
                page=PAGE_BODY,
            )
        )
        return
    if action == "read-only":
        return  # CloudFront ignores data and encoding then
    encoding = body.get("encoding", "base64")
    if encoding not in ("base64", "text"):
        out.append(
            _refused(
                "request-body",
                f'{_FAILED}body.encoding must be "base64" or "text", got {encoding!r}.',
                page=PAGE_BODY,
            )
        )
        return
    data = body.get("data", "")
    if not isinstance(data, str):
        out.append(
            _refused("request-body", f"{_FAILED}body.data must be a string.", page=PAGE_BODY)
        )
        return
    if encoding == "base64":
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            out.append(
                _refused(
                    "request-body",
                    f"{_FAILED}body.data is not valid base64 although body.encoding is base64.",
                    page=PAGE_BODY,
                )
            )
            return
    size = len(data.encode("utf-8", "surrogatepass"))
    limit = BODY_REPLACE_LIMIT[trigger][encoding]
    if size > limit:
        out.append(
            _refused(
                "request-body",
                f"{_FAILED}the replacement body is {size} bytes of {encoding}; a {trigger} "
                f"function may send at most {limit}.",
                page=PAGE_BODY,
            )
        )
