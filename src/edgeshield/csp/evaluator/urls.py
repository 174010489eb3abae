"""Host and path of a source expression, and matching sources against the bypass lists.

The evaluator reads a source's host by handing ``https://`` + the source (scheme removed, a
``*`` made a placeholder label) to the WHATWG URL parser. That parser decides a lot: ``0x7f.1``
and ``2130706433`` are 127.0.0.1, full-width letters fold to ASCII, ``a/../b`` is ``/b``, and
``a:b.com`` or ``999.1.1.1`` are not URLs at all. ada (the parser Node itself uses) gives the
same answers, so results follow the npm package instead of an approximation. Where the URL
parser fails, the npm package throws and evaluates nothing; here the source is just skipped
by the checks that need a host (see :func:`edgeshield.csp.evaluator.sources_without_host`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

import ada_url

_SCHEME_PREFIX: Final = re.compile(r"^\w[+\w.-]*://", re.ASCII | re.IGNORECASE)
_PLACEHOLDER: Final = "wildcard_placeholder"
# Sic: the evaluator's pattern is /^\wildcard_placeholder/i, whose \w matches any word
# character in place of the "w".
_LEADING_PLACEHOLDER: Final = re.compile(r"^\wildcard_placeholder", re.ASCII | re.IGNORECASE)
_IPV6_START: Final = re.compile(r"^\[[0-9:]+\]")
_IPV4_LIKE: Final = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")


@dataclass(frozen=True, slots=True)
class Url:
    hostname: str
    pathname: str


@lru_cache(maxsize=65536)
def scheme_free(source: str) -> str:
    """``https://a.com/x`` → ``a.com/x``; ``//a.com`` → ``a.com``; anything else unchanged."""
    source = _SCHEME_PREFIX.sub("", source, count=1)
    return source[2:] if source.startswith("//") else source


def _parse(url: str) -> Url | None:
    try:
        parts = ada_url.parse_url(url, attributes=("hostname", "pathname"))
    except ValueError:
        return None
    return Url(str(parts["hostname"]), str(parts["pathname"]))


@lru_cache(maxsize=65536)
def source_url(source: str) -> Url | None:
    """The source read as an https URL (first ``:*`` port dropped, first ``*`` a placeholder
    label), or None when that is not a valid URL."""
    text = scheme_free(source).replace(":*", "", 1).replace("*", _PLACEHOLDER, 1)
    return _parse("https://" + text)


@lru_cache(maxsize=65536)
def hostname(source: str) -> str | None:
    """The source's host as the evaluator reports it (``*`` for a wildcard label, IPv6 in
    brackets), or None when the source cannot be read as a URL."""
    url = source_url(source)
    if url is None:
        return None
    host = url.hostname.replace(_PLACEHOLDER, "*", 1)
    if _IPV6_START.match(scheme_free(source)) and not _IPV6_START.match(host):
        return "[" + host + "]"
    return host


def looks_like_ip(host: str) -> bool:
    """The evaluator's heuristic: bracketed (IPv6) or four dotted groups of 1-3 digits."""
    if host.startswith("[") and host.endswith("]"):
        return True
    return _IPV4_LIKE.fullmatch(host) is not None


def _load(name: str) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(
        resources.files("edgeshield.csp.evaluator").joinpath("data", name).read_text("utf-8")
    )
    return data


def _urls(entries: list[str]) -> tuple[Url, ...]:
    parsed = []
    for entry in entries:
        url = _parse("https://" + entry[2:] if entry.startswith("//") else entry)
        if url is None:  # our packaged data; the tests keep this from shipping
            raise ValueError(f"bad bypass URL in the packaged list: {entry!r}")
        parsed.append(url)
    return tuple(parsed)


_JSONP: Final = _load("jsonp.json")
JSONP_URLS: Final = _urls(_JSONP["urls"])
JSONP_NEEDS_EVAL: Final = frozenset(_JSONP["needs_eval"])
ANGULAR_URLS: Final = _urls(_load("angular.json")["urls"])
FLASH_URLS: Final = _urls(_load("flash.json")["urls"])


def match_wildcard_urls(source: Url, candidates: tuple[Url, ...]) -> Url | None:
    """The first known URL the source allows: same host (or a subdomain of a ``*.`` host) and,
    when the source has a path, the same file or a URL under the same directory."""
    host = source.hostname.lower()
    host_has_wildcard = host.startswith(_PLACEHOLDER + ".")
    wildcard_free_host = _LEADING_PLACEHOLDER.sub("", host, count=1)
    path = source.pathname
    has_path = path != "/"
    for url in candidates:
        domain = url.hostname
        if not domain.endswith(wildcard_free_host):
            continue
        if not host_has_wildcard and host != domain:
            continue
        if has_path:
            if path.endswith("/"):
                if not url.pathname.startswith(path):
                    continue
            elif url.pathname != path:
                continue
        return url
    return None


@lru_cache(maxsize=65536)
def script_bypass(source: str) -> tuple[Url | None, Url | None]:
    """(first JSONP URL, first AngularJS URL) the source allows; memoised per source text."""
    url = source_url(source)
    if url is None:
        return None, None
    return match_wildcard_urls(url, JSONP_URLS), match_wildcard_urls(url, ANGULAR_URLS)


@lru_cache(maxsize=65536)
def flash_bypass(source: str) -> Url | None:
    url = source_url(source)
    return None if url is None else match_wildcard_urls(url, FLASH_URLS)
