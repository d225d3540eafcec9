"""Stamps: values in the cache that retire other cache entries all at once.

An entry is kept under a key that holds the stamps current when it was made. Renewing
a stamp (a new random value) means no key built from the old value is asked for again:
every entry made under it is retired without finding them, and expires in its own
time. A stamp missing from the cache (never made, evicted, lost with Redis or
unreachable) is made afresh, so an entry can only ever be read under the stamps it was
made with. Used for the signed-in person's identity (``accounts.identity``) and for
pages worked out from an organisation's data (``programmes.freshness``).
"""

from __future__ import annotations

import uuid

from django.core.cache import cache


def read(*keys: str) -> str:
    """The current stamps under these keys, joined, for a cache key."""
    # A copy: with Redis unreachable, django-redis answers with one shared empty dict.
    found = dict(cache.get_many(keys))
    for key in keys:
        if key not in found:
            fresh = uuid.uuid4().hex
            # Two requests making a stamp at once agree on whichever was stored first.
            found[key] = fresh if cache.add(key, fresh, timeout=None) else cache.get(key, fresh)
    return "-".join(found[key] for key in keys)


def renew(key: str) -> None:
    """Retire every entry made under the stamp at ``key``."""
    cache.set(key, uuid.uuid4().hex, timeout=None)
