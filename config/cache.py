"""The Redis cache, as django-redis gives it, made to carry on through a Redis outage.

django-redis's IGNORE_EXCEPTIONS makes an unreachable Redis answer like an empty cache
(each miss logged). One answer needs adjusting: ``add`` then returns None. For a lock
(allauth's rate limits take one with ``add``) that would mean waiting for it and then
refusing the request, so while Redis cannot be reached a lock counts as taken and
nothing waits on it: limits are simply not counted until Redis is back. Every other
``add`` keeps answering "not added": a two-factor code cannot be marked as used, so it
is refused rather than accepted twice, and once-only notices are not sent.

A Redis that does not answer at all (a network fault rather than a stopped server)
costs a socket timeout per call, and a page makes several calls (its session, the
signed-in person, cached page parts). So after a call fails, the cache answers
"nothing cached" at once, without trying Redis, for OUTAGE_PAUSE_SECONDS; then the
next call tries again.
"""

from __future__ import annotations

import time

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted

LOCK_SUFFIX = ":lock"
OUTAGE_PAUSE_SECONDS = 5.0


class Paused(ConnectionError):
    """Redis was not asked: it failed a moment ago."""


class _PausingClient:
    """django-redis's client, skipping Redis for a while after a call fails."""

    def __init__(self, client, cache: OutageTolerantRedisCache):
        self._client = client
        self._cache = cache

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            if time.monotonic() < self._cache.paused_until:
                raise ConnectionInterrupted(connection=None) from Paused(
                    f"not asked: Redis failed less than {OUTAGE_PAUSE_SECONDS:.0f} seconds ago"
                )
            try:
                return attribute(*args, **kwargs)
            except ConnectionInterrupted:
                self._cache.paused_until = time.monotonic() + OUTAGE_PAUSE_SECONDS
                raise

        return call


class OutageTolerantRedisCache(RedisCache):
    paused_until = 0.0

    @property
    def client(self):
        return _PausingClient(super().client, self)

    def add(self, key, *args, **kwargs):
        added = super().add(key, *args, **kwargs)
        if added is None:
            return str(key).endswith(LOCK_SUFFIX)
        return added
