"""CSP hash sources computed the way browsers compute them.

CSP Level 3 (https://www.w3.org/TR/CSP3/#match-element-to-source-list) hashes the element's
text content, UTF-8 encoded, whatever encoding the page was served in; Chromium does the same.
The text is what the HTML parser produced, so the input stream's preprocessing applies first:
CR LF and lone CR become LF (https://html.spec.whatwg.org/#preprocessing-the-input-stream).
Attribute values ('unsafe-hashes') are hashed after character references are decoded.
"""

from __future__ import annotations

import base64
import hashlib
import re

_CONTROL_OR_SPACE = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_TAB_NEWLINE_RE = re.compile(r"[\t\n\r]")


def normalize_newlines(text: str) -> str:
    """CR LF and lone CR -> LF, as the HTML parser does before anything else."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def hash_source(text: str, algorithm: str = "sha256") -> str:
    """The CSP source expression that allows exactly ``text``: ``'sha256-<base64>'``."""
    digest = hashlib.new(algorithm, text.encode("utf-8", "surrogatepass")).digest()
    return f"'{algorithm}-{base64.b64encode(digest).decode('ascii')}'"


def _percent_encode(text: str, extra: str) -> str:
    """Percent-encode C0 controls, bytes above 0x7E and ``extra`` (UTF-8, upper-case hex)."""
    out = []
    for char in text:
        if ord(char) < 0x20 or ord(char) > 0x7E or char in extra:
            out.append("".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass")))
        else:
            out.append(char)
    return "".join(out)


def javascript_url_text(value: str) -> str:
    """A ``javascript:`` attribute value as the URL parser serialises it: this is the string a
    browser checks against 'unsafe-hashes' (the whole URL, scheme included).

    WHATWG URL: strip leading/trailing C0 controls and spaces, drop tabs and newlines, lower-case
    the scheme, then percent-encode the opaque path (C0 set), query and fragment
    (https://url.spec.whatwg.org/#concept-basic-url-parser).
    """
    url = _TAB_NEWLINE_RE.sub("", value.strip(_CONTROL_OR_SPACE))
    scheme, _, rest = url.partition(":")
    fragment = None
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
    query = None
    if "?" in rest:
        rest, query = rest.split("?", 1)
    out = scheme.lower() + ":" + _percent_encode(rest, "")
    if query is not None:
        out += "?" + _percent_encode(query, ' "#<>')
    if fragment is not None:
        out += "#" + _percent_encode(fragment, ' "<>`')
    return out
