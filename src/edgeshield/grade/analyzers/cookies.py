"""cookies: Secure, HttpOnly and SameSite on every cookie the site set.

Cookies are judged after a cookie jar accepted them, as the Observatory's tough-cookie jar
would: a cookie for a foreign domain, a public suffix, or a violated __Secure-/__Host- prefix is
dropped. The raw Set-Cookie lines of the final response are also checked for a malformed SameSite.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any, Final
from urllib.parse import urlsplit

from edgeshield.grade.lists.psl import registrable_domain
from edgeshield.grade.model import Outcome
from edgeshield.grade.parse.jsstr import JS_WS

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
_TERMINATOR: Final = re.compile(r"[\n\r\x00]")  # a cookie pair ends at the first of these
# Special-use TLDs a jar accepts as cookie domains (RFC 6761): "x.test", "localhost", ...
_SPECIAL_USE: Final = frozenset({"local", "example", "invalid", "localhost", "test"})
_SAMESITE: Final = {"strict": "strict", "lax": "lax", "none": "none"}


def has_invalid_samesite(line: str) -> bool:
    """A SameSite attribute that is empty or not lax/strict/none."""
    # Lower-casing works character by character, so an attribute whose lower-cased name is
    # "samesite" leaves that substring in the lower-cased line: most lines end here.
    if "samesite" not in line.lower():
        return False
    for part in line.strip(JS_WS).split(";"):
        pieces = part.strip(JS_WS).split("=")
        if pieces[0].strip(JS_WS).lower() == "samesite":
            value = pieces[1] if len(pieces) > 1 else ""
            if not value or value.strip(JS_WS).lower() not in _SAMESITE:
                return True
    return False


class Cookie:
    __slots__ = ("domain", "host_only", "http_only", "name", "path", "same_site", "secure")

    def __init__(
        self,
        name: str,
        domain: str | None = None,
        path: str | None = None,
        secure: bool = False,
        http_only: bool = False,
        same_site: str | None = None,
    ) -> None:
        self.name = name
        self.domain = domain
        self.path = path
        self.secure = secure
        self.http_only = http_only
        self.same_site = same_site
        self.host_only = True


def _samesite_invalid(attr: str) -> bool:
    """One ``;``-separated piece of a line, as ``has_invalid_samesite`` judges it."""
    key, has_value, rest = attr.partition("=")
    if key.strip(JS_WS).lower() != "samesite":
        return False
    return not has_value or rest.partition("=")[0].strip(JS_WS).lower() not in _SAMESITE


def parse_set_cookie(line: str) -> Cookie | None:
    """Parse one Set-Cookie line strictly (a name and '=' are required); None if rejected."""
    return _parse(line)[0]


def _name(pair: str) -> str | None:
    """The cookie name of a line's first piece; None if the jar rejects the pair."""
    if pair.isprintable():
        # The common case, one C-level scan: no terminator to cut at, no control character.
        eq = pair.find("=")
        return pair[:eq].strip(JS_WS) if eq > 0 else None
    cut = _TERMINATOR.search(pair)
    if cut is not None:
        pair = pair[: cut.start()]
    eq = pair.find("=")
    name = pair[:eq].strip(JS_WS)
    if eq <= 0 or _CONTROL.search(name) or _CONTROL.search(pair[eq + 1 :].strip(JS_WS)):
        return None
    return name


# The attributes a jar reads; the others are skipped.
_PATH, _SECURE, _HTTPONLY, _SAMESITE_ATTR, _DOMAIN = range(5)
_ATTRIBUTES: Final = {
    "path": _PATH,
    "secure": _SECURE,
    "httponly": _HTTPONLY,
    "samesite": _SAMESITE_ATTR,
    "domain": _DOMAIN,
}


def _parse(line: str) -> tuple[Cookie | None, bool]:
    """The cookie a line sets (None if rejected), and ``has_invalid_samesite(line)``: one pass
    over the attributes serves both, as every line is read by both checks."""
    # str.strip with JS_WS is String.prototype.trim (jsstr.trim, inlined: this loop is hot).
    pair, sep, attrs = line.strip(JS_WS).partition(";")
    bad_samesite = "samesite" in pair.lower() and _samesite_invalid(pair)
    name = _name(pair)
    if not sep:
        return (None if name is None else Cookie(name)), bad_samesite
    cookie = Cookie(name or "")
    # Lower-casing creates and removes no ";", "=" or whitespace: lower the attributes once,
    # and go back to the original text only for the case-sensitive Path.
    for i, raw in enumerate(attrs.lower().split(";")):
        # Trimming the key and the value trims the attribute too; an empty one matches no key.
        key, has_value, val = raw.partition("=")
        kind = _ATTRIBUTES.get(key.strip(JS_WS))
        if kind is None:
            continue
        if kind == _SECURE:
            cookie.secure = True
        elif kind == _HTTPONLY:
            cookie.http_only = True
        elif kind == _PATH:
            val = attrs.split(";")[i].partition("=")[2].strip(JS_WS)
            cookie.path = val if val.startswith("/") else None
        elif kind == _SAMESITE_ATTR:
            cookie.same_site = _SAMESITE.get(val.strip(JS_WS)) if has_value else None
            # The Observatory's own check reads only up to a second "=" ("lax=1" is lax).
            if not has_value or val.partition("=")[0].strip(JS_WS) not in _SAMESITE:
                bad_samesite = True
        else:
            val = val.strip(JS_WS)
            if val.startswith("."):
                val = val[1:]
            if val:
                cookie.domain = val
    return (None if name is None else cookie), bad_samesite


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


@functools.lru_cache(maxsize=1024)
def _host_and_path(url: str) -> tuple[str, str] | None:
    """A site's URL, split once: every cookie of a scan comes from one or a few URLs."""
    try:
        parts = urlsplit(url)
        return (parts.hostname or "").lower(), parts.path
    except ValueError:
        return None


def build_jar(cookies: list[tuple[str, str]], bad_samesite: set[str] | None = None) -> list[Cookie]:
    """Store cookies as a jar would: later cookies replace same (domain, path, name).

    ``bad_samesite``, if given, collects the lines ``has_invalid_samesite`` would flag.
    """
    jar: dict[tuple[str, str, str], Cookie] = {}
    for line, url in cookies:
        cookie, flagged = _parse(line)
        if flagged and bad_samesite is not None:
            bad_samesite.add(line)
        if cookie is None:
            continue
        split = _host_and_path(url)
        if split is None:
            continue
        host, url_path = split
        if cookie.domain is not None:
            if not _domain_allowed(cookie.domain):
                continue  # a cookie for a public suffix ("com", "github.io") is refused
            if not _domain_match(host, cookie.domain):
                continue
            cookie.host_only = False
        else:
            cookie.domain = host
        if not cookie.path:
            cookie.path = _default_path(url_path or "/")
        if cookie.name.startswith("__Secure-") and not cookie.secure:
            continue
        if cookie.name.startswith("__Host-") and not (
            cookie.secure and cookie.host_only and cookie.path == "/"
        ):
            continue
        jar[(cookie.domain, cookie.path, cookie.name)] = cookie
    return list(jar.values())


def _final_samesite_invalid(
    final_set_cookie: list[str], cookies: list[tuple[str, str]], flagged: set[str]
) -> bool:
    """A line of the final response has a malformed SameSite (``flagged``: the session's)."""
    lines = [line for line, _ in cookies]
    if final_set_cookie == lines:  # header-only grading: the very same lines
        return bool(flagged)
    # Otherwise the final response's lines are normally among the session's, already read.
    seen = set(lines)
    return any(
        line in flagged if line in seen else has_invalid_samesite(line) for line in final_set_cookie
    )


_SAMESITE_INVALID: Final = _RANK["cookies-samesite-flag-invalid"]
_ANTICSRF: Final = _RANK["cookies-anticsrf-without-samesite-flag"]
_SESSION_HTTPONLY: Final = _RANK["cookies-session-without-httponly-flag"]
# Without Secure, by whether HSTS passed: (any cookie, a session cookie).
_INSECURE: Final = {
    True: (
        _RANK["cookies-without-secure-flag-but-protected-by-hsts"],
        _RANK["cookies-session-without-secure-flag-but-protected-by-hsts"],
    ),
    False: (_RANK["cookies-without-secure-flag"], _RANK["cookies-session-without-secure-flag"]),
}


def _worst(jar: list[Cookie], hsts_passed: bool, worst: int) -> tuple[int, bool]:
    """The rank of the worst finding over the jar (-1: none; ``worst`` so far), and whether
    every cookie has a SameSite."""
    insecure, insecure_session = _INSECURE[hsts_passed]
    all_samesite = True
    for c in jar:
        key = c.name.lower()
        session = "login" in key or "sess" in key
        if not c.secure:
            rank = insecure_session if session else insecure
            if c.same_site == "none" and rank < _SAMESITE_INVALID:
                rank = _SAMESITE_INVALID
            if rank > worst:
                worst = rank
        if session and not c.http_only and worst < _SESSION_HTTPONLY:
            worst = _SESSION_HTTPONLY
        if not c.same_site:
            all_samesite = False
            if "csrf" in key and worst < _ANTICSRF:
                worst = _ANTICSRF
    return worst, all_samesite


def analyze(
    final_set_cookie: list[str], cookies: list[tuple[str, str]], hsts_passed: bool
) -> Outcome:
    """``final_set_cookie``: raw lines of the final response; ``cookies``: every (line, URL)."""
    flagged: set[str] = set()
    jar = build_jar(cookies, flagged) if cookies else []
    jar = [c for c in jar if c.name and c.name not in _IGNORED]
    if not jar:
        return Outcome(NAME, "cookies-not-found", True)
    worst = -1
    if final_set_cookie and _final_samesite_invalid(final_set_cookie, cookies, flagged):
        worst = _SAMESITE_INVALID
    worst, all_samesite = _worst(jar, hsts_passed, worst)
    if worst >= 0:
        result = _ORDER[worst]
    elif all_samesite:
        result = "cookies-secure-with-httponly-sessions-and-samesite"
    else:
        result = "cookies-secure-with-httponly-sessions"
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
    return Outcome(NAME, result, result in _PASSING, {"cookies": data, "sameSite": all_samesite})
