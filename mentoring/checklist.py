"""The mentor map's checklist: ticking items, and the stage each relationship is in."""

from __future__ import annotations

import datetime

from django.utils import timezone

from .models import ChecklistTick, Relationship


def tick(
    relationship: Relationship, item: str, *, by=None, on: datetime.date | None = None
) -> ChecklistTick:
    """Mark a checklist item done (once; a second tick keeps the first date)."""
    done, _ = ChecklistTick.objects.get_or_create(
        relationship=relationship,
        item=item,
        defaults={
            "done_on": on or timezone.localdate(),
            "done_by": by if getattr(by, "is_authenticated", False) else None,
        },
    )
    return done
