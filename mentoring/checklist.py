"""The mentor map's checklist: ticking items, and the stage each relationship is in.

A relationship walks the mentor map's five stages in order. Ticking the last item of
the stage it is in moves it on by itself; consolidating has no items, so the mentor
moves it on by hand. Other areas (agreement signing, surveys) tick items through
``tick()`` and so move the stage on the same way.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from programmes import audit
from programmes.models import AuditEvent

from .models import CHECKLIST, ChecklistTick, Relationship

Stage = Relationship.Stage
STAGE_ORDER: tuple[str, ...] = tuple(Relationship.OPEN_STAGES)


def items_of(stage: str) -> list[str]:
    """The checklist item codes of one stage, in the mentor map's order."""
    return [code for code, _, item_stage in CHECKLIST if item_stage == stage]


def next_stage(stage: str) -> str | None:
    """The stage after this one on the map, or None at the last (or outside the map)."""
    if stage not in STAGE_ORDER:
        return None
    index = STAGE_ORDER.index(stage)
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) else None


def previous_stage(stage: str) -> str | None:
    """The stage before this one on the map, or None at the first (or outside the map)."""
    if stage not in STAGE_ORDER:
        return None
    index = STAGE_ORDER.index(stage)
    return STAGE_ORDER[index - 1] if index > 0 else None


def _actor(by):
    return by if getattr(by, "is_authenticated", False) else None


def tick(
    relationship: Relationship, item: str, *, by=None, on: datetime.date | None = None
) -> ChecklistTick:
    """Mark a checklist item done (once; a second tick keeps the first date).

    A new tick is audited, and may complete the relationship's current stage, which
    then moves on (see ``advance_if_complete``).
    """
    with transaction.atomic():
        done, created = ChecklistTick.objects.get_or_create(
            relationship=relationship,
            item=item,
            defaults={"done_on": on or timezone.localdate(), "done_by": _actor(by)},
        )
        if created:
            audit.record(
                organisation=relationship.programme.organisation,
                actor=by,
                action=AuditEvent.Action.CREATE,
                obj=done,
                label=str(done),
                fields=["item", "done_on"],
            )
            advance_if_complete(relationship, by)
    return done


def advance_if_complete(relationship: Relationship, by=None, *, path: str = "") -> str:
    """Move an open relationship on while every item of its current stage is done.

    Returns the stage it is in afterwards (and sets it on ``relationship``). A stage
    without items (consolidating) is never complete: the mentor moves it on by hand.
    Parting ways is the last stage: closing it is the mentor's decision.
    """
    with transaction.atomic():
        locked = (
            Relationship.objects.select_for_update(of=("self",))
            .select_related("programme__organisation")
            .get(pk=relationship.pk)
        )
        done = set(locked.ticks.values_list("item", flat=True))
        stage = locked.stage
        while True:
            items = items_of(stage)
            following = next_stage(stage)
            if not items or following is None or not set(items) <= done:
                break
            stage = following
        if stage != locked.stage:
            _set_stage(locked, stage, by=by, path=path, label="Stage moved on: checklist done")
    relationship.stage = stage
    return stage


def _set_stage(relationship: Relationship, stage: str, *, by, path: str, label: str) -> None:
    relationship.stage = stage
    relationship.save(update_fields=["stage"])
    audit.record(
        organisation=relationship.programme.organisation,
        actor=by,
        action=AuditEvent.Action.CHANGE,
        obj=relationship,
        label=f"{label} ({relationship.get_stage_display()})",
        fields=["stage"],
        path=path,
    )


class StageRefused(Exception):
    """The stage cannot move that way (closed, or already at the end of the map)."""


def move_stage(relationship: Relationship, *, forward: bool, by, path: str = "") -> str:
    """Move an open relationship one stage on (or back) by hand; returns the new stage."""
    with transaction.atomic():
        locked = (
            Relationship.objects.select_for_update(of=("self",))
            .select_related("programme__organisation")
            .get(pk=relationship.pk)
        )
        if not locked.is_open:
            raise StageRefused("This relationship has closed, so its stage cannot change.")
        stage = next_stage(locked.stage) if forward else previous_stage(locked.stage)
        if stage is None:
            raise StageRefused(
                "This is the last stage: close the relationship when you part ways."
                if forward
                else "This is the first stage."
            )
        _set_stage(
            locked,
            stage,
            by=by,
            path=path,
            label="Stage moved on by hand" if forward else "Stage moved back by hand",
        )
    relationship.stage = stage
    return stage


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: str
    tick: ChecklistTick | None


@dataclass(frozen=True)
class MapStage:
    """One stage of the mentor map as a relationship stands in it."""

    code: str
    label: str
    items: list[ChecklistItem]
    is_current: bool
    is_past: bool

    @property
    def done_count(self) -> int:
        return sum(1 for item in self.items if item.tick)


def mentor_map(relationship: Relationship, ticks: list[ChecklistTick]) -> list[MapStage]:
    """The five stages with their items and ticks, for showing (no queries)."""
    by_item = {t.item: t for t in ticks}
    labels = dict(Stage.choices)
    current = relationship.stage
    current_index = STAGE_ORDER.index(current) if current in STAGE_ORDER else len(STAGE_ORDER)
    stages = []
    for index, code in enumerate(STAGE_ORDER):
        items = [
            ChecklistItem(item, label, by_item.get(item))
            for item, label, item_stage in CHECKLIST
            if item_stage == code
        ]
        stages.append(
            MapStage(
                code=code,
                label=labels[code],
                items=items,
                is_current=code == current,
                is_past=index < current_index,
            )
        )
    return stages
