"""Parts of pages kept in the cache until their organisation's data changes.

A part of a page worked out from many rows (the intake queue's filter and table) is
kept under its organisation's stamp (``programmes.freshness``) with everything else
it depends on (``vary``: the reader's roles and trusts, the query string, the day), so
it is worked out once and then read until a row of the organisation changes, or for
REPORT_PAGE_SECONDS at most. What must happen on every request (recording the view in
the audit trail) stays outside. A part holding a form that posts (and so a CSRF token)
is never kept this way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from . import freshness


def kept(request, name: str, vary: tuple, build: Callable[[], Any]) -> Any:
    """``build()``'s result for this organisation and ``vary``: from the cache, or built
    now and kept."""
    if not freshness.enabled():
        return build()
    organisation = request.organisation
    digest = hashlib.sha256(repr(vary).encode()).hexdigest()[:32]
    key = ":".join(
        [
            "fragment",
            name,
            str(organisation.pk),
            # An organisation made again with the same id (a restored database) is another one.
            str(organisation.created_at.timestamp()),
            digest,
            freshness.stamp(organisation),
        ]
    )
    found = cache.get(key)
    if found is not None:
        return found
    value = build()
    cache.set(key, value, settings.REPORT_PAGE_SECONDS)
    return value
