"""JSON from files a user or a stranger wrote, read so that every way it can be wrong is one
``json.JSONDecodeError``: the standard library also raises RecursionError for deep nesting
(``[[[[…``) and a plain ValueError for a number with more digits than Python converts, and
both ended in tracebacks where a one-line error belonged."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str) -> Any:
    """``json.loads``, with every failure a ``json.JSONDecodeError`` (``msg``, ``lineno``,
    ``colno``; the position is the start of the text where the decoder gives none)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("arrays or objects nested too deeply", text, 0) from None
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise json.JSONDecodeError(str(exc).split(";")[0], text, 0) from None
