"""cookies: Secure, HttpOnly and SameSite on every cookie the site set.

Cookies are judged after a cookie jar accepted them, as the Observatory's tough-cookie jar
would: a cookie for a foreign domain, a public suffix, or a violated __Secure-/__Host- prefix is
dropped. The raw Set-Cookie lines of the final response are also checked for a malformed SameSite.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Final
from urllib.parse import urlsplit

from edgeshield.grade.jsstr import trim
from edgeshield.grade.model import Outcome
from edgeshield.grade.psl import registrable_domain

NAME: Final = "cookies"
_IGNORED: Final = frozenset({"heroku-session-affinity"})  # set by Heroku's router, not the app
# Worst last: a later finding replaces an earlier one only if it is worse.
_ORDER: Final = (
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
)
_RANK: Final = {name: i for i, name in enumerate(_ORDER)}
_PASSING: Final = frozenset(
    {
        "cookies-not-found",
        "cookies-secure-with-httponly-sessions-and-samesite",
        "cookies-secure-with-httponly-sessions",
    }
)
_CONTROL: Final = re.compile(r"[\x00-\x1f]")
# Special-use TLDs a jar accepts as cookie domains (RFC 6761): "x.test", "localhost", ...
_SPECIAL_USE: Final = frozenset({"local", "example", "invalid", "localhost", "test"})
_SAMESITE: Final = {"strict": "strict", "lax": "lax", "none": "none"}


def _worse(new: str, old: str | None) -> str:
    if old is None or _RANK[new] > _RANK[old]:
        return new
    return old


def has_invalid_samesite(line: str) -> bool:
    """A SameSite attribute that is empty or not lax/strict/none."""
    for part in trim(line).split(";"):
        pieces = trim(part).split("=")
        if trim(pieces[0]).lower() == "samesite":
            value = pieces[1] if len(pieces) > 1 else ""
            if not value or trim(value).lower() not in _SAMESITE:
                return True
    return False


class Cookie:
    __slots__ = ("domain", "host_only", "http_only", "name", "path", "same_site", "secure")

    def __init__(self, name: str) -> None:
        self.name = name
        self.domain: str | None = None
        self.path: str | None = None
        self.secure = False
        self.http_only = False
        self.same_site: str | None = None
        self.host_only = True


def _cut_terminator(s: str) -> str:
    for i, c in enumerate(s):
        if c in "\n\r\x00":
            return s[:i]
    return s


def parse_set_cookie(line: str) -> Cookie | None:
    """Parse one Set-Cookie line strictly (a name and '=' are required); None if rejected."""
    line = trim(line)
    pair, sep, attrs = line.partition(";")
    pair = _cut_terminator(pair)
    eq = pair.find("=")
    if eq <= 0:
        return None
    name = trim(pair[:eq])
    value = trim(pair[eq + 1 :])
    if _CONTROL.search(name) or _CONTROL.search(value):
        return None
    cookie = Cookie(name)
    if not sep:
        return cookie
    for raw in attrs.split(";"):
        av = trim(raw)
        if not av:
            continue
        key, has_value, val = av.partition("=")
        key = trim(key).lower()
        val = trim(val) if has_value else ""
        if key == "domain":
            domain = val[1:] if val.startswith(".") else val
            domain = domain.lower()
            if domain:
                cookie.domain = domain
        elif key == "path":
            cookie.path = val if val.startswith("/") else None
        elif key == "secure":
            cookie.secure = True
        elif key == "httponly":
            cookie.http_only = True
        elif key == "samesite":
            cookie.same_site = _SAMESITE.get(val.lower())
    return cookie


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _domain_match(host: str, domain: str) -> bool:
    if host == domain:
        return True
    return host.endswith("." + domain) and not _is_ip(host)


def _domain_allowed(domain: str) -> bool:
    """The Domain attribute is not a public suffix (IPv6 literals pass, IPv4 do not)."""
    labels = domain.split(".")
    if labels[-1] in _SPECIAL_USE and (len(labels) > 1 or labels[-1] in ("localhost", "invalid")):
        return True
    if ":" in domain:
        return _is_ip(domain)
    return registrable_domain(domain, private=True) is not None


def _default_path(url_path: str) -> str:
    if not url_path.startswith("/"):
        return "/"
    cut = url_path.rfind("/")
    return url_path[:cut] if cut > 0 else "/"


def build_jar(cookies: list[tuple[str, str]]) -> list[Cookie]:
    """Store cookies as a jar would: later cookies replace same (domain, path, name)."""
    jar: dict[tuple[str, str, str], Cookie] = {}
    for line, url in cookies:
        cookie = parse_set_cookie(line)
        if cookie is None:
            continue
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            continue
        if cookie.domain is not None:
            if not _domain_allowed(cookie.domain):
                continue  # a cookie for a public suffix ("com", "github.io") is refused
            if not _domain_match(host, cookie.domain):
                continue
            cookie.host_only = False
        else:
            cookie.domain = host
        if not cookie.path:
            cookie.path = _default_path(parts.path or "/")
        if cookie.name.startswith("__Secure-") and not cookie.secure:
            continue
        if cookie.name.startswith("__Host-") and not (
            cookie.secure and cookie.host_only and cookie.path == "/"
        ):
            continue
        jar[(cookie.domain, cookie.path, cookie.name)] = cookie
    return list(jar.values())


def analyze(
    final_set_cookie: list[str], cookies: list[tuple[str, str]], hsts_passed: bool
) -> Outcome:
    """``final_set_cookie``: raw lines of the final response; ``cookies``: every (line, URL)."""
    result: str | None = None
    for line in final_set_cookie:
        if has_invalid_samesite(line):
            result = _worse("cookies-samesite-flag-invalid", result)

    jar = [c for c in build_jar(cookies) if c.name and c.name not in _IGNORED] if cookies else []
    if not jar:
        result = "cookies-not-found"
        return Outcome(NAME, result, True)

    missing_samesite = False
    for c in jar:
        key = c.name.lower()
        session = "login" in key or "sess" in key
        anticsrf = "csrf" in key
        if not c.secure and c.same_site == "none":
            result = _worse("cookies-samesite-flag-invalid", result)
        if not c.secure:
            result = _worse(
                "cookies-without-secure-flag-but-protected-by-hsts"
                if hsts_passed
                else "cookies-without-secure-flag",
                result,
            )
        if anticsrf and not c.same_site:
            result = _worse("cookies-anticsrf-without-samesite-flag", result)
        if session and not c.secure:
            result = _worse(
                "cookies-session-without-secure-flag-but-protected-by-hsts"
                if hsts_passed
                else "cookies-session-without-secure-flag",
                result,
            )
        if session and not c.http_only:
            result = _worse("cookies-session-without-httponly-flag", result)
        if not c.same_site:
            missing_samesite = True

    if result is None:
        result = (
            "cookies-secure-with-httponly-sessions"
            if missing_samesite
            else "cookies-secure-with-httponly-sessions-and-samesite"
        )
    data: dict[str, Any] = {
        c.name: {
            "domain": c.domain,
            "path": c.path,
            "secure": c.secure,
            "httponly": c.http_only,
            "samesite": c.same_site,
        }
        for c in jar
    }
    return Outcome(
        NAME, result, result in _PASSING, {"cookies": data, "sameSite": not missing_samesite}
    )
