"""The worker pipe's JSON lines decode, with the standard library the worker uses, to exactly
what the standard library's own encoding gives: for events, and for anything JSON-shaped."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edgeshield.cloudfront import build_event
from edgeshield.emulator.functions import pipe_json
from edgeshield.emulator.functions.pipe_json import decode_line, encode_line

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)  # past 64 bits: the fallback path
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()  # lone surrogates included: the fallback path
)
_json_like = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _round_trip(message: Any) -> Any:
    line = encode_line(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    return json.loads(line)


@settings(max_examples=400, deadline=None)
@given(_json_like)
def test_any_json_shaped_message_reads_back_as_the_stdlib_encoding_does(message: Any) -> None:
    assert _round_trip(message) == json.loads(json.dumps(message))


def test_an_event_with_hostile_header_text_reads_back_unchanged() -> None:
    headers = [
        ("X-Text", "caf\u00e9 \u2028 line\u2029sep \U0001f600"),
        ("X-Raw", "\udcff\udcfe from undecodable bytes"),  # lone surrogates
        ("X-Quote", 'a "quoted" \\ back\\slash\t\x7f'),
    ]
    event = build_event("origin-response", headers=headers, response_headers=headers)
    message = {"id": 2**80, "request_id": "r", "deadline_ms": 1, "event": event}
    assert _round_trip(message) == json.loads(json.dumps(message))


def test_the_fast_path_is_taken_where_orjson_is_installed() -> None:
    # CI installs orjson (a dependency on CPython): its output is compact, json.dumps's is not.
    assert pipe_json._fast_dumps is not None
    assert encode_line({"a": [1, "é"]}) == '{"a":[1,"é"]}\n'.encode()


def _worker_line(message: Any) -> bytes:
    """What the worker writes: Python's encoder, non-ASCII as UTF-8 (NaN and big ints too)."""
    return json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n"


@settings(max_examples=400, deadline=None)
@given(_json_like)
def test_a_reply_line_decodes_as_the_stdlib_decodes_it(message: Any) -> None:
    line = _worker_line(message)
    decoded, strict = decode_line(line)
    assert decoded == json.loads(line)
    assert type(decoded) is type(json.loads(line))
    assert strict


def test_strictness_is_judged_by_tokens_not_by_text() -> None:
    # The fallback path (a 19-digit run) with the words NaN and Infinity only inside strings:
    # still strict JSON; with a real NaN token: not.
    line = _worker_line({"NaN": "Infinity", "n": 10**18, "k": "-Infinity"})
    assert decode_line(line) == ({"NaN": "Infinity", "n": 10**18, "k": "-Infinity"}, True)
    decoded, strict = decode_line(_worker_line({"n": 10**18, "x": float("nan")}))
    assert decoded["n"] == 10**18 and decoded["x"] != decoded["x"] and not strict
    assert decode_line(b'{"a": -Infinity}\n')[1] is False
    # A number past the largest float reads as infinity: not something that re-encodes.
    assert decode_line(b'{"a": 1e400}\n') == ({"a": float("inf")}, False)
    assert decode_line(b'{"a": -1E+999, "b": "1e400"}\n')[1] is False
    assert decode_line(b'{"a": 1.5e300, "b": "1e400"}\n')[1] is True


def test_numbers_orjson_would_change_stay_exact() -> None:
    # orjson reads integers past 64 bits (19 digits when negative) as floats.
    for text in (
        b"-9999999999999999999",
        b"123456789012345678901234567890",
        b"[1, -9223372036854775809]",
    ):
        decoded, strict = decode_line(text)
        assert decoded == json.loads(text) and strict
        assert "float" not in repr(type(decoded))
    decoded, _ = decode_line(b'{"status": 18446744073709551616}')
    assert decoded == {"status": 18446744073709551616}


def test_nan_and_infinity_decode_but_are_not_strict() -> None:
    for text in (b'{"v": NaN}', b'{"v": [Infinity]}', b'{"v": -Infinity}'):
        decoded, strict = decode_line(text)
        assert not strict
        assert decoded.keys() == {"v"}
    # The words inside a string are text, not numbers: still strict when orjson reads it.
    assert decode_line(b'{"v": "NaN and Infinity"}') == ({"v": "NaN and Infinity"}, True)


def test_lone_surrogates_and_bad_lines() -> None:
    assert decode_line(b'{"v": "\\udcff"}') == ({"v": "\udcff"}, True)
    for bad in (b"", b"{", b'{"a": }', b"\xff\xfe"):
        try:
            decode_line(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} decoded")


@settings(max_examples=400, deadline=None)
@given(
    _json_like | st.just(float("nan")) | st.just([float("inf"), {"a": float("-inf")}]),
    st.integers(min_value=0, max_value=6),
)
def test_a_reply_is_plain_when_strict_and_bracketed_no_deeper_than_allowed(
    message: Any, max_brackets: int
) -> None:
    line = _worker_line(message)
    decoded, plain = pipe_json.decode_reply(line, max_brackets)
    expected, strict = decode_line(line)
    assert repr(decoded) == repr(expected) and type(decoded) is type(expected)
    assert plain == (strict and line.count(b"[") + line.count(b"{") <= max_brackets)


def test_brackets_inside_strings_count_too() -> None:
    line = b'{"v": "[[{{"}\n'
    assert pipe_json.decode_reply(line, 5) == ({"v": "[[{{"}, True)
    assert pipe_json.decode_reply(line, 4) == ({"v": "[[{{"}, False)
    assert pipe_json.decode_reply(b'{"v": 123456789012345678901}', 1) == (
        {"v": 123456789012345678901},
        True,
    )
