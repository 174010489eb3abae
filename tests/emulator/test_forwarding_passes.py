"""The forwarding rules written as one pass over the headers give exactly what the rules give
applied literally (a pass to read Connection, then a filter), for any mix of names, case,
repeats and Connection options."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edgeshield.cloudfront import HeaderPairs
from edgeshield.emulator.pipeline import forwarding
from edgeshield.emulator.pipeline.forwarding import HOP_BY_HOP

_names = st.sampled_from(
    [
        "Connection", "connection", "Keep-Alive", "Transfer-Encoding", "X-A", "x-a", "Close",
        "Via", "X-Forwarded-For", "Accept-Encoding", "Cookie", "TE", "Upgrade", "Server",
        "If-None-Match", "X-Amz-Cf-Id",
    ]
)  # fmt: skip
_values = st.sampled_from(
    ["keep-alive", "close", "x-a, Close", "transfer-encoding", " X-A ,te", "", "gzip, br", "1"]
)
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


@settings(max_examples=500, deadline=None)
@given(_headers, st.sampled_from(["GET", "POST"]), st.booleans())
def test_a_request_to_the_origin_drops_what_connection_names(
    headers: HeaderPairs, method: str, cookies: bool
) -> None:
    sent = forwarding.to_origin(
        headers, client_ip="192.0.2.1", origin_host="o.example", via="1.1 e",
        forward_cookies=cookies, method=method,
    )  # fmt: skip
    named = _named(headers)
    added = {"host", "user-agent", "via", "x-forwarded-for", "accept-encoding"}
    viewer_part = [(n, v) for n, v in sent if n.lower() not in added]
    # Nothing the viewer's Connection header named reaches the origin, and every other
    # forwarded header keeps its place: the same as filtering the rules' output by name.
    assert not any(n.lower() in named for n, _v in viewer_part)
    unfiltered = forwarding.to_origin(
        [(n, v) for n, v in headers if n.lower() != "connection"],
        client_ip="192.0.2.1", origin_host="o.example", via="1.1 e",
        forward_cookies=cookies, method=method,
    )  # fmt: skip
    expected = [(n, v) for n, v in unfiltered if n.lower() in added or n.lower() not in named]
    assert sent == expected
