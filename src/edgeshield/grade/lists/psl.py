"""Registrable domains from the Public Suffix List (ICANN section), shipped offline."""

from __future__ import annotations

import functools
import ipaddress

from publicsuffixlist import PublicSuffixList


@functools.cache
def _psl(only_icann: bool) -> PublicSuffixList:
    return PublicSuffixList(only_icann=only_icann)


@functools.lru_cache(maxsize=4096)
def registrable_domain(host: str, private: bool = False) -> str | None:
    """``example.co.uk`` for ``www.example.co.uk``; None for an IP, a bare suffix or junk.

    ``private`` also honours the list's private section (``github.io``, ...), as cookie jars do;
    without it only ICANN suffixes count, as for the SRI test's "same site" check.
    """
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    try:
        result = _psl(not private).privatesuffix(host)
    except (ValueError, UnicodeError, AttributeError):
        return None
    return result if isinstance(result, str) else None
