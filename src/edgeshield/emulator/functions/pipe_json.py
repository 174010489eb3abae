"""JSON lines for the pipe to a function's worker.

Encoding the event and decoding the reply are the costliest steps of an invocation on the
edge's side (both hold every header), so they go through orjson where it is installed, several
times faster than the standard library, and give the same objects. Where orjson would differ,
the standard library does the job, as before: encoding what orjson refuses (a lone surrogate
from a header that was not valid text, an integer beyond 64 bits, a type it does not know),
and decoding a line that orjson refuses (NaN or Infinity, which Python's encoder writes and its
decoder reads back, lone surrogate escapes) or that holds a run of 19 or more digits (orjson
reads integers beyond 64 bits as floats; the standard library keeps them exact). The worker
side stays stdlib-only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, Final

_fast_dumps: Callable[[Any], bytes] | None
_fast_loads: Callable[[bytes], Any] | None
try:
    import orjson

    _fast_dumps, _fast_loads = orjson.dumps, orjson.loads
except ImportError:  # an optional speed-up: the standard library does the same job
    _fast_dumps = _fast_loads = None

# Every digit as "0" (a run of 19 zeros in the translated line is a run of 19 digits) and every
# "{" as "[" (one count of "[" in it counts the opening brackets of both kinds): one pass over
# the line for both questions decode_reply asks.
_SCAN: Final = bytes.maketrans(b"123456789{", b"000000000[")
_LONG_NUMBER: Final = b"0" * 19


def encode_line(message: Any) -> bytes:
    """``message`` as one line of JSON (no newline inside, one at the end)."""
    if _fast_dumps is not None:
        try:
            return _fast_dumps(message) + b"\n"
        except TypeError:  # orjson's JSONEncodeError: surrogates, huge ints, other types
            pass
    # ensure_ascii: text from undecodable bytes (lone surrogates) stays encodable.
    return (json.dumps(message) + "\n").encode("ascii")


def decode_line(line: bytes) -> tuple[Any, bool]:
    """A line of JSON as ``json.loads`` reads it, and whether the line is strict JSON (no NaN
    or Infinity tokens: what ``json.loads`` made of it re-encodes with ``allow_nan=False``).
    Raises ValueError (or RecursionError) where ``json.loads`` does."""
    return decode_reply(line, sys.maxsize)  # no bound on the brackets: strictness alone


def decode_reply(line: bytes, max_brackets: int) -> tuple[Any, bool]:
    """``decode_line``, but whether the line is strict JSON *and* holds at most
    ``max_brackets`` opening brackets (``[`` or ``{``, strings counted too: never fewer than
    the decoded value's depth)."""
    if _fast_loads is not None:
        scanned = line.translate(_SCAN)
        if _LONG_NUMBER not in scanned:
            try:
                value = _fast_loads(line)  # orjson accepts strict JSON only
            except ValueError:  # orjson's JSONDecodeError: NaN, surrogates, too deep, not JSON
                pass
            else:
                return value, scanned.count(b"[") <= max_brackets
    value, strict = _slow(line)
    return value, strict and line.count(b"[") + line.count(b"{") <= max_brackets


def _slow(line: bytes) -> tuple[Any, bool]:
    """The standard library's decoding, strict unless the decoder met a NaN or Infinity token
    (a string that merely contains the word, as a header value or key may, does not count) or
    a number too large for a float (``1e400`` reads as infinity, which re-encodes as no JSON)."""
    tokens: list[str] = []

    def constant(token: str) -> float:
        tokens.append(token)
        return float(token)

    def number(text: str) -> float:
        value = float(text)
        if value in (_INF, -_INF):
            tokens.append(text)
        return value

    return json.loads(line, parse_constant=constant, parse_float=number), not tokens


_INF: Final = float("inf")
