"""Claiming a row exactly once, for jobs and requests that may race.

Inside a django-scopes scope, ``Model.objects.filter(...).update(...)`` carries the
scope's join and Django writes ``UPDATE … WHERE id IN (SELECT …)``; PostgreSQL does
not re-check such a sub-select against a concurrent change, so two racing callers
can both "win". :func:`claim_row` runs the UPDATE on the one table, outside the
scope (the caller found the row inside it): PostgreSQL then re-checks the
conditions on the newest row once a concurrent claim commits, and only one caller
changes it. Every exactly-once e-mail and every "first one wins" step uses it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def claim_row(model: type[models.Model], pk: int, *conditions: Q, changes: dict, **where) -> bool:
    """Apply ``changes`` to row ``pk`` only if it still matches; True if this call did."""
    manager = model._default_manager
    queryset = (
        manager.with_scopes_disabled() if hasattr(manager, "with_scopes_disabled") else manager
    )
    return queryset.filter(*conditions, pk=pk, **where).update(**changes) == 1
