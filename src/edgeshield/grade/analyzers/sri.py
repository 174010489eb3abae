"""subresource-integrity: scripts in the HTML body, their origin, scheme and integrity."""

from __future__ import annotations

import re
from typing import Any, Final

from edgeshield.grade.lists.psl import registrable_domain
from edgeshield.grade.model import Outcome
from edgeshield.grade.parse.page import Page, Script

NAME: Final = "subresource-integrity"
HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
# Worst last (the Observatory keeps the worse of two findings by this order).
_ORDER: Final = (
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-implemented-but-external-scripts-not-loaded-securely",
    "sri-not-implemented-but-external-scripts-loaded-securely",
    "sri-not-implemented-and-external-scripts-not-loaded-securely",
    "sri-not-implemented-response-not-html",
)
_RANK: Final = {name: i for i, name in enumerate(_ORDER)}
_PASSING: Final = frozenset(
    {
        "sri-implemented-and-all-scripts-loaded-securely",
        "sri-implemented-and-external-scripts-loaded-securely",
        "sri-not-implemented-response-not-html",
        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
        "sri-not-implemented-but-no-scripts-loaded",
    }
)
_PROTOCOL_RELATIVE: Final = re.compile(r"^//[^/]")
_FULL_URL: Final = re.compile(r"^https?://")
_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_URL_STRIP: Final = "".join(chr(c) for c in range(0x21))  # C0 controls and space


def _worse(new: str, old: str | None) -> str:
    if old is None or _RANK.get(new, -1) > _RANK.get(old, -1):
        return new
    return old


def mime_type(content_type: str | None) -> str:
    """The part before ';', as written: the Observatory neither trims nor lower-cases it."""
    return (content_type or "").split(";")[0]


def resolved_src(raw: str) -> tuple[str, str | None]:
    """The script's ``src`` as the DOM reports it for a page parsed without a base URL.

    Absolute http(s) URLs come back normalised; anything relative cannot be resolved and comes
    back as written. Returns (src, host) where host is set for http(s) URLs.
    """
    s = raw.strip(_URL_STRIP).replace("\t", "").replace("\n", "").replace("\r", "")
    m = _SCHEME.match(s)
    if m is None:
        return raw, None
    scheme = m.group(0)[:-1].lower()
    if scheme not in ("http", "https"):
        return scheme + ":" + s[m.end() :], None
    rest = s[m.end() :].lstrip("/\\")
    end = len(rest)
    for i, c in enumerate(rest):
        if c in "/\\?#":
            end = i
            break
    authority = rest[:end]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else host
    else:
        host = host.partition(":")[0]
    host = host.lower()
    if not host:
        return raw, None
    path = rest[end:].replace("\\", "/") or "/"
    if not path.startswith(("/", "?", "#")):
        path = "/" + path
    return f"{scheme}://{authority.lower()}{path}", host


def analyze(
    content_type: str | None, page: Page | None, site_host: str, https_page: bool
) -> Outcome:
    mime = mime_type(content_type)
    if mime and mime not in HTML_TYPES:
        return Outcome(NAME, "sri-not-implemented-response-not-html", True)
    if page is None:
        return Outcome(NAME, "html-not-parseable", False)
    result: str | None = None
    foreign = False
    data: dict[str, Any] = {}
    site_domain = registrable_domain(site_host)
    script: Script
    for script in page.scripts:
        if not script.src:
            continue
        src, host = resolved_src(script.src)
        if not src:
            continue
        relative_origin = relative_protocol = same_domain = False
        if _PROTOCOL_RELATIVE.match(src):
            relative_protocol = same_domain = True
        elif _FULL_URL.match(src):
            same_domain = registrable_domain(host or "") == site_domain
        else:
            relative_origin = same_domain = True
        secure_origin = relative_origin or (same_domain and not relative_protocol)
        if not secure_origin:
            foreign = True
        scheme = None
        if not relative_protocol and not relative_origin:
            scheme = src.split(":", 1)[0] + ":" if host else None
        secure_scheme = scheme == "https:" or (relative_origin and https_page)
        integrity = script.integrity
        if not secure_origin:
            data[src] = {"crossorigin": script.crossorigin, "integrity": integrity}
            if integrity and not secure_scheme:
                result = _worse("sri-implemented-but-external-scripts-not-loaded-securely", result)
            elif not integrity and secure_scheme:
                result = _worse("sri-not-implemented-but-external-scripts-loaded-securely", result)
            elif not integrity:
                result = _worse(
                    "sri-not-implemented-and-external-scripts-not-loaded-securely", result
                )
        elif integrity and secure_scheme and result is None:
            # Integrity on the site's own scripts still earns the bonus.
            result = "sri-implemented-and-all-scripts-loaded-securely"
    if not page.scripts:
        result = "sri-not-implemented-but-no-scripts-loaded"
    elif result is None:
        result = (
            "sri-implemented-and-external-scripts-loaded-securely"
            if foreign
            else "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
        )
    return Outcome(NAME, result, result in _PASSING, {"scripts": data} if data else None)
