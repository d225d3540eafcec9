"""Recording the audit trail. Call these from services and views that touch personal data."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django.db import connections, models, router
from django.utils import timezone

from config.middleware import loggable_path, mask_token

from .models import AuditEvent, Organisation


def record(
    *,
    organisation: Organisation,
    actor,
    action: str,
    path: str = "",
    **details,
) -> None:
    """Record one event. ``details`` are ``_event``'s: ``obj``, ``object_type``,
    ``object_id``, ``label`` (never the content of a confidential field), ``fields``."""
    # A link's token is as good as a password until used: never written down.
    return _event(organisation, actor, action, mask_token(path), **details)


def record_request(request, action: str, **details) -> None:
    """Record one event of this request, its path masked as the request log masks it
    (from the URL already resolved for the request)."""
    return _event(request.organisation, request.user, action, loggable_path(request), **details)


def _event(
    organisation,
    actor,
    action: str,
    masked_path: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    label: str = "",
    fields: Iterable[str] = (),
) -> None:
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
    _insert(
        {
            "organisation": getattr(organisation, "pk", organisation),
            "actor": actor.pk if getattr(actor, "is_authenticated", False) else None,
            "action": action,
            "object_type": object_type[:60],
            "object_id": str(object_id)[:40],
            "object_label": label[:200],
            "fields": sorted(fields),
            "path": masked_path[:300],
            "at": timezone.now(),
        }
    )


@cache
def _fields() -> list:
    """Every column an event is written with: each of the model's but its id."""
    return [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]


def _insert(values: dict) -> None:
    """Write one event as a single INSERT, each value prepared by its model field as the
    ORM would prepare it. An event is written for every page of personal data viewed
    and is never read back or changed by the request that writes it, so it skips the
    ORM's save (its signals and the returned id), a third of an event's cost."""
    alias = router.db_for_write(AuditEvent)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(alias),
            [field.get_db_prep_save(values[field.name], connection) for field in _fields()],
        )


@cache
def _insert_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    columns = ", ".join(quote(field.column) for field in _fields())
    placeholders = ", ".join(["%s"] * len(_fields()))
    # Only the model's own table and column names, quoted; every value is a parameter.
    return f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 # nosec B608
