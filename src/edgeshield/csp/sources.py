"""A URL found in a page or a stylesheet -> the CSP source expression that allows it.

Same-origin references become ``'self'``; other origins their exact scheme and host (never a
wildcard); ``data:`` and ``blob:`` their scheme. ``http:`` is written as ``https:``: on an HTTPS
page browsers upgrade or block such loads anyway (mixed content), and CSP matches the upgraded
request (https://www.w3.org/TR/CSP3/#match-url-to-source-expression).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_WHITESPACE = " \t\n\r\f"
_DEFAULT_PORTS = {"https": 443, "http": 80, "wss": 443, "ws": 80}
SELF = "'self'"
# Characters a CSP path may hold as they are; ";" and "," end a directive or a policy and must
# be percent-encoded (https://www.w3.org/TR/CSP3/#source-expression), "%" keeps existing escapes.
_CSP_PATH_SAFE = "/!$&'()*+=:@~%"


@dataclass(frozen=True)
class Resolved:
    source: str | None  # None: nothing to allow (fragment, about:blank, unsupported scheme)
    note: str = ""  # why it was changed or skipped, for the report


def _host_source(scheme: str, url: str) -> Resolved:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return Resolved(None, "not a valid URL")
    if not host:
        return Resolved(None, "URL without a host")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return Resolved(None, "host is not a valid domain name")
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    note = ""
    if scheme in ("http", "ws"):
        scheme, note = ("https" if scheme == "http" else "wss"), "upgraded from http"
    source = f"{scheme}://{host}"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        source += f":{port}"
    return Resolved(source, note)


def resolve(url: str, same_origins: frozenset[str] = frozenset()) -> Resolved:
    """The source for ``url``. ``same_origins`` are the site's own origins
    (``https://example.com``): absolute URLs to them are ``'self'`` too."""
    url = url.strip(_WHITESPACE)
    if not url or url.startswith("#"):
        return Resolved(None)
    if url.startswith("//"):
        return resolve("https:" + url, same_origins)
    match = _SCHEME_RE.match(url)
    if match is None:
        return Resolved(SELF)
    scheme = match.group(1).lower()
    if scheme in ("data", "blob"):
        return Resolved(f"{scheme}:")
    if scheme in ("http", "https", "ws", "wss"):
        resolved = _host_source(scheme, url)
        if resolved.source is not None and resolved.source in same_origins:
            return Resolved(SELF)
        return resolved
    if scheme == "about":
        return Resolved(None)
    return Resolved(None, f"{scheme}: URLs are not fetched from a page")


def exact_url(host_source: str, url: str) -> str | None:
    """``host_source`` (as :func:`resolve` gave it for ``url``) narrowed to the file ``url``
    names: scheme, host and path, without query or fragment (CSP ignores both). A path that does
    not end in "/" matches that one file only (https://www.w3.org/TR/CSP3/#match-paths).
    None when ``url`` has no path worth narrowing to (``/``) or cannot be read."""
    url = url.strip(_WHITESPACE)
    if url.startswith("//"):
        url = "https:" + url
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    if not path or path == "/":
        return None
    return host_source + quote(path, safe=_CSP_PATH_SAFE)
