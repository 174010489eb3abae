"""The forwarding rules written as one pass over the headers give exactly what the rules give
applied literally (a pass to read Connection, then a filter), for any mix of names, case,
repeats and Connection options."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edgeshield.cloudfront import HeaderPairs
from edgeshield.emulator.pipeline import forwarding
from edgeshield.emulator.pipeline.forwarding import HOP_BY_HOP

_names = st.sampled_from(
    [
        "Connection", "connection", "Keep-Alive", "Transfer-Encoding", "X-A", "x-a", "Close",
        "Via", "X-Forwarded-For", "Accept-Encoding", "Cookie", "TE", "Upgrade", "Server",
        "If-None-Match", "X-Amz-Cf-Id", "Host", "Referer", "If-Modified-Since",
    ]
)  # fmt: skip
_values = st.sampled_from(
    [
        "keep-alive", "close", "x-a, Close", "transfer-encoding", " X-A ,te", "", "gzip, br",
        "1", "Cookie", "if-none-match, SERVER", "via,X-Forwarded-For", "Accept-Encoding",
        "host, x-amz-cf-id", "upgrade ,, keep-alive",
    ]
)  # fmt: skip
_headers = st.lists(st.tuples(_names, _values), max_size=10)


def _named(headers: HeaderPairs) -> set[str]:
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def _from_origin_literally(headers: HeaderPairs) -> HeaderPairs:
    named = _named(headers)
    return [
        (n, v)
        for n, v in headers
        if (n.lower() not in HOP_BY_HOP or n.lower() == "transfer-encoding")
        and n.lower() not in named
    ]


@settings(max_examples=500, deadline=None)
@given(_headers)
def test_an_origin_response_keeps_what_the_rules_keep(headers: HeaderPairs) -> None:
    assert forwarding.from_origin(headers) == _from_origin_literally(headers)


def _to_origin_literally(
    headers: HeaderPairs, *, client_ip: str, origin_host: str, via: str,
    forward_cookies: bool, method: str,
) -> HeaderPairs:  # fmt: skip
    """The rules as the previous two-pass version applied them (Connection read first)."""
    named = _named(headers)
    conditional_ok = method not in ("GET", "HEAD")
    out: HeaderPairs = []
    xff: list[str] = []
    vias: list[str] = []
    accept_encoding: str | None = None
    for name, value in headers:
        lower = name.lower()
        if lower == "x-forwarded-for":
            xff.append(value)
            continue
        if lower == "via":
            vias.append(value)
            continue
        if lower == "accept-encoding":
            accept_encoding = value
            continue
        replaced = {"host", "user-agent", "via", "x-forwarded-for", "accept-encoding"}
        if lower in replaced or lower in HOP_BY_HOP or lower in named:
            continue
        if lower.startswith(("x-edge-", "x-amz-cf-", "x-amzn-")):
            continue
        not_forwarded = {
            "expect", "x-forwarded-proto", "x-real-ip", "x-http-method-override", "x-cache",
            "referer", "accept-language", "if-none-match", "if-modified-since", "if-match",
            "if-unmodified-since", "if-range",
        }  # fmt: skip
        if lower in not_forwarded and not (conditional_ok and lower.startswith("if-")):
            continue
        if lower == "cookie" and not forward_cookies:
            continue
        out.append((name, value))
    out.insert(0, ("Host", origin_host))
    out.append(("User-Agent", "Amazon CloudFront"))
    out.append(("Via", ", ".join([*vias, via])))
    out.append(("X-Forwarded-For", ", ".join([*xff, client_ip])))
    normalized = forwarding.normalize_accept_encoding(accept_encoding)
    if normalized:
        out.append(("Accept-Encoding", normalized))
    return out


@settings(max_examples=500, deadline=None)
@given(_headers, st.sampled_from(["GET", "HEAD", "POST"]), st.booleans())
def test_a_request_to_the_origin_is_what_the_rules_send(
    headers: HeaderPairs, method: str, cookies: bool
) -> None:
    options: dict[str, Any] = {
        "client_ip": "192.0.2.1", "origin_host": "o.example", "via": "1.1 e",
        "forward_cookies": cookies, "method": method,
    }  # fmt: skip
    assert forwarding.to_origin(headers, **options) == _to_origin_literally(headers, **options)
