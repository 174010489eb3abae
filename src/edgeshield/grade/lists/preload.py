"""The Chromium HSTS preload list, read offline from the ``hstspreload`` package."""

from __future__ import annotations

import functools
import warnings

import hstspreload


@functools.lru_cache(maxsize=4096)
def is_preloaded(host: str) -> bool:
    """True if the host, or a parent preloaded with includeSubDomains, is on the list."""
    host = host.rstrip(".").lower()
    if not host:
        return False
    try:
        encoded = host.encode("idna") if not host.isascii() else host.encode("ascii")
    except UnicodeError:
        return False
    try:
        with warnings.catch_warnings():
            # The package opens its data with a deprecated importlib.resources call.
            warnings.simplefilter("ignore", DeprecationWarning)
            return bool(hstspreload.in_hsts_preload(encoded))
    except (ValueError, IndexError, OSError):
        return False
