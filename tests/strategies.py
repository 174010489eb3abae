"""Hypothesis strategies shared by the test suites.

``header_lists()`` gives HTTP header lines as ``[(name, value), ...]``; ``origin_response_events()``
gives Lambda@Edge origin-response events as CloudFront could send them, including the awkward
parts: odd ``key`` casing, repeated headers, non-ASCII and very long values, and events without
the optional ``statusDescription``, ``querystring`` or ``origin``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from edgeshield.cloudfront.events import build_event, custom_origin, s3_origin
from edgeshield.cloudfront.rules import is_disallowed

# Names real origins send, so generated sets collide with the ones a policy touches.
COMMON_RESPONSE_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Cache-Control",
    "Date",
    "ETag",
    "Last-Modified",
    "Server",
    "Set-Cookie",
    "Vary",
    "Via",
    "Transfer-Encoding",
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
    "Strict-Transport-Security",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "X-Powered-By",
    "Access-Control-Allow-Origin",
    "Link",
)

_TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@st.composite
def _odd_case(draw: st.DrawFn, name: str) -> str:
    """``name`` with each letter's case chosen at random (``cOnTeNt-TyPe``)."""
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(name, flips, strict=True))


def header_names(*, allow_disallowed: bool = False) -> st.SearchStrategy[str]:
    """Valid header names (RFC 9110 tokens): common ones in odd casings and random tokens."""
    names = st.one_of(
        st.sampled_from(COMMON_RESPONSE_HEADERS).flatmap(
            lambda n: st.one_of(st.just(n), st.just(n.lower()), _odd_case(n))
        ),
        st.text(alphabet=_TOKEN_CHARS, min_size=1, max_size=40),
    )
    return names if allow_disallowed else names.filter(lambda n: not is_disallowed(n))


def header_values() -> st.SearchStrategy[str]:
    """Values CloudFront passes on: no control characters (other than tab), but ASCII,
    Latin-1 and other Unicode text, empty values and very long ones."""
    visible = st.characters(
        blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f", max_codepoint=0x10FFFF
    )
    latin1 = st.characters(min_codepoint=0xA0, max_codepoint=0xFF)
    return st.one_of(
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60),
        st.text(alphabet=st.one_of(latin1, st.sampled_from("ab ;=")), max_size=30),
        st.text(alphabet=visible, max_size=30),
        st.just("a\tb"),
        st.builds(lambda c, n: c * n, st.sampled_from("xé€"), st.integers(1_000, 20_000)),
    )


def header_lists(
    *, allow_disallowed: bool = False, max_size: int = 25
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """HTTP header lines, with repeated names (same or different casing) likely."""
    names = header_names(allow_disallowed=allow_disallowed)
    return st.lists(names, min_size=1, max_size=6).flatmap(
        lambda pool: st.lists(
            st.tuples(st.one_of(st.sampled_from(pool), names), header_values()),
            max_size=max_size,
        )
    )


def _origins() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(
            custom_origin,
            st.sampled_from(["example.org", "origin.example.com", "a.b.c.example.net"]),
            port=st.sampled_from([80, 443, 8080]),
            protocol=st.sampled_from(["http", "https"]),
            path=st.sampled_from(["", "/prod", "/a/b"]),
        ),
        st.builds(
            s3_origin,
            st.sampled_from(["my-bucket.s3.amazonaws.com", "assets.s3.eu-west-1.amazonaws.com"]),
            auth_method=st.just("none"),
        ),
    )


@st.composite
def origin_response_events(draw: st.DrawFn) -> dict[str, Any]:
    """An origin-response event; its unchanged response is always a valid function result."""
    event = build_event(
        "origin-response",
        uri=draw(st.sampled_from(["/", "/index.html", "/api/items", "/a%20b/ü.png"])),
        querystring=draw(st.sampled_from(["", "a=1", "q=caf%C3%A9&x=&y"])),
        headers=draw(header_lists(max_size=8)),
        status=draw(
            st.one_of(st.sampled_from([200, 204, 301, 304, 404, 500, 503]), st.integers(200, 599))
        ),
        status_description=draw(st.one_of(st.none(), st.sampled_from(["OK", "Whatever", ""]))),
        response_headers=draw(header_lists()),
        origin=draw(_origins()),
    )
    cf = event["Records"][0]["cf"]
    if draw(st.booleans()):
        del cf["response"]["statusDescription"]
    if draw(st.booleans()):
        del cf["request"]["querystring"]
    if draw(st.booleans()):
        del cf["request"]["origin"]
    return event
