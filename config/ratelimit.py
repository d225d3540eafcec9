"""Counting requests in a fixed window through the cache, for the public pages' limits."""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import PermissionDenied


def hit(key: str, window_seconds: int) -> int:
    """Count one request against ``key``; the number counted in the current window.

    With the cache unreachable nothing can be counted, so this answers 0: a limit is
    not enforced during a cache outage rather than every request failing.
    """
    cache.add(key, 0, window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, window_seconds)
        return 1
    return count if count is not None else 0


def allow(key: str, limit: int, window_seconds: int) -> bool:
    """Count one request; False once more than ``limit`` came in the window."""
    return hit(key, window_seconds) <= limit


def client_ip(request) -> str:
    """The visitor's address as the sign-in limits see it (trusted proxies honoured)."""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return "unknown"
