"""Registrable domains from the Public Suffix List (ICANN section), shipped offline."""

from __future__ import annotations

import functools
import ipaddress

from publicsuffixlist import PublicSuffixList


@functools.cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList(only_icann=True)


@functools.lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str | None:
    """``example.co.uk`` for ``www.example.co.uk``; None for an IP, a bare suffix or junk."""
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
        result = _psl().privatesuffix(host)
    except (ValueError, UnicodeError, AttributeError):
        return None
    return result if isinstance(result, str) else None
