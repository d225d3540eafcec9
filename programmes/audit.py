"""Recording the audit trail. Call these from services and views that touch personal data."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from config.middleware import loggable_path, mask_token

from .models import AuditEvent, Organisation


def record(
    *,
    organisation: Organisation,
    actor,
    action: str,
    path: str = "",
    **details,
) -> AuditEvent:
    """Record one event. ``details`` are ``_event``'s: ``obj``, ``object_type``,
    ``object_id``, ``label`` (never the content of a confidential field), ``fields``."""
    # A link's token is as good as a password until used: never written down.
    return _event(organisation, actor, action, mask_token(path), **details)


def record_request(request, action: str, **details) -> AuditEvent:
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
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
    return AuditEvent.objects.create(
        organisation=organisation,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=object_type[:60],
        object_id=str(object_id)[:40],
        object_label=label[:200],
        fields=sorted(fields),
        path=masked_path[:300],
    )
