"""Stamps: values in the cache that retire other cache entries all at once.

An entry is kept under a key that holds the stamps current when it was made. Renewing
a stamp (a new random value) means no key built from the old value is asked for again:
every entry made under it is retired without finding them, and expires in its own
time. A stamp missing from the cache (never made, evicted, lost with Redis or
unreachable) is made afresh, so an entry can only ever be read under the stamps it was
made with. An entry may instead be kept with its stamps inside it (``keep``) and read
in the same round trip as the current stamps (``read_with_entry``), handed out only if
they still match. Used for the signed-in person's identity (``accounts.identity``) and for
pages worked out from an organisation's data (``programmes.freshness``).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import transaction


def read(*keys: str) -> str:
    """The current stamps under these keys, joined, for a cache key."""
    # A copy: with Redis unreachable, django-redis answers with one shared empty dict.
    return _current(keys, dict(cache.get_many(keys)))


def read_with_entry(keys: tuple[str, ...], entry_key: str) -> tuple[str, Any]:
    """The current stamps under ``keys`` and, in the same round trip to the cache, the
    value kept at ``entry_key`` by ``keep`` if it was kept under those stamps (None if
    not, or if nothing is kept there)."""
    found = dict(cache.get_many([*keys, entry_key]))
    current = _current(keys, found)
    entry = found.get(entry_key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == current:
        return current, entry[1]
    return current, None


def keep(entry_key: str, current: str, value: Any, timeout: int) -> None:
    """Keep ``value`` at ``entry_key`` for ``read_with_entry`` under the stamps
    ``current``; a value kept under other stamps is never handed out."""
    cache.set(entry_key, (current, value), timeout)


def _current(keys, found: dict) -> str:
    for key in keys:
        if key not in found:
            fresh = uuid.uuid4().hex
            # Two requests making a stamp at once agree on whichever was stored first.
            found[key] = fresh if cache.add(key, fresh, timeout=None) else cache.get(key, fresh)
    return "-".join(found[key] for key in keys)


def renew(key: str) -> None:
    """Retire every entry made under the stamp at ``key``."""
    cache.set(key, uuid.uuid4().hex, timeout=None)


def renew_with_commit(key: str) -> None:
    """``renew`` at once and again when the transaction commits, so that a request that
    read the old rows just before the commit cannot keep them under the new stamp."""
    renew(key)
    transaction.on_commit(partial(renew, key))
