"""The Redis cache, as django-redis gives it, made to carry on through a Redis outage.

django-redis's IGNORE_EXCEPTIONS makes an unreachable Redis answer like an empty cache
(each miss logged). One answer needs adjusting: ``add`` then returns None, and callers
that take a lock with ``add`` (allauth's rate limits do) would wait for it and then
refuse the request. While Redis cannot be reached, an ``add`` counts as done, so
nothing waits on it: limits are simply not counted until Redis is back.
"""

from __future__ import annotations

from django_redis.cache import RedisCache


class OutageTolerantRedisCache(RedisCache):
    def add(self, *args, **kwargs):
        added = super().add(*args, **kwargs)
        return True if added is None else added
