"""A response headers policy applied to a response's headers gives exactly what applying its
headers one by one gives (the rule as AWS states it: remove first, then each header, set if
it overrides or is missing), whatever the names, their case, repeats and order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edgeshield.cloudfront import HeaderPairs
from edgeshield.emulator.pipeline.response_headers_policy import ResponseHeadersPolicy

# A few names in several spellings, so that removals, overrides and repeats collide often.
_names = st.sampled_from(
    ["X-Frame-Options", "x-frame-options", "Server", "SERVER", "X-A", "x-a", "Vary", "X-B"]
)
_values = st.sampled_from(["1", "2", "deny", ""])


def _one_by_one(policy: ResponseHeadersPolicy, headers: HeaderPairs) -> HeaderPairs:
    """The rule, literally: a pass over the headers for every header the policy sets."""
    out = [(n, v) for n, v in headers if n.lower() not in policy.remove]
    for name, value, override in policy.headers:
        lower = name.lower()
        if any(n.lower() == lower for n, _v in out) and not override:
            continue
        out = [(n, v) for n, v in out if n.lower() != lower]
        out.append((name, value))
    return out


@settings(max_examples=500, deadline=None)
@given(
    headers=st.lists(st.tuples(_names, _values), max_size=8),
    sets=st.lists(st.tuples(_names, _values, st.booleans()), max_size=6),
    remove=st.frozensets(_names.map(str.lower), max_size=3),
)
def test_applying_a_policy_is_the_rule_applied_header_by_header(
    headers: HeaderPairs, sets: list[tuple[str, str, bool]], remove: frozenset[str]
) -> None:
    policy = ResponseHeadersPolicy("p", remove, tuple(sets))
    assert policy.apply(headers) == _one_by_one(policy, headers)


def test_an_overriding_header_replaces_every_line_and_goes_last() -> None:
    policy = ResponseHeadersPolicy(
        "p", frozenset({"server"}), (("X-Frame-Options", "DENY", True), ("Vary", "x", False))
    )
    headers = [("x-frame-options", "a"), ("Server", "s"), ("Vary", "v"), ("X-FRAME-OPTIONS", "b")]
    assert policy.apply(headers) == [("Vary", "v"), ("X-Frame-Options", "DENY")]
