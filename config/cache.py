"""The Redis cache, as django-redis gives it, made to carry on through a Redis outage.

django-redis's IGNORE_EXCEPTIONS makes an unreachable Redis answer like an empty cache
(each miss logged). One answer needs adjusting: ``add`` then returns None. For a lock
(allauth's rate limits take one with ``add``) that would mean waiting for it and then
refusing the request, so while Redis cannot be reached a lock counts as taken and
nothing waits on it: limits are simply not counted until Redis is back. Every other
``add`` keeps answering "not added": a two-factor code cannot be marked as used, so it
is refused rather than accepted twice, and once-only notices are not sent.
"""

from __future__ import annotations

from django_redis.cache import RedisCache

LOCK_SUFFIX = ":lock"


class OutageTolerantRedisCache(RedisCache):
    def add(self, key, *args, **kwargs):
        added = super().add(key, *args, **kwargs)
        if added is None:
            return str(key).endswith(LOCK_SUFFIX)
        return added
