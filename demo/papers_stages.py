"""Demo records for the mentor map: checklist ticks that match each relationship's
stage, closed relationships with their reason, and the organisation's support
resources. Idempotent (natural keys) and dated relative to today.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from mentoring.checklist import STAGE_ORDER, items_of
from mentoring.models import ChecklistTick, Relationship, SupportResource
from programmes.models import Programme

# Items the mentor has done in the stage a relationship is in now: never all of them,
# or the stage would have moved on.
DONE_IN_CURRENT_STAGE = {
    Relationship.Stage.SETTING_UP: ["contacted_line_manager", "contacted_mentee"],
    Relationship.Stage.PARTING_WAYS: ["documentation_complete"],
}
# Relationships that ended before they got going had made first contact only.
DONE_WHEN_ENDED_EARLY = ["contacted_line_manager", "contacted_mentee"]

ALL_TRUSTS_RESOURCES = [
    (
        SupportResource.Category.WELLBEING,
        "Mental health and wellbeing advice",
        "https://www.nhs.uk/mental-health/",
        "Self-help guides, tools and where to get urgent help, for anyone.",
    ),
    (
        SupportResource.Category.WELLBEING,
        "Live well",
        "https://www.nhs.uk/live-well/",
        "Advice on sleep, exercise, eating well and looking after yourself.",
    ),
    (
        SupportResource.Category.DEVELOPMENT,
        "Cancer nursing education directory",
        "https://education.example.org/cancer-nursing",
        "Courses, study days and e-learning for the cancer workforce, most of them free.",
    ),
    (
        SupportResource.Category.OTHER,
        "Legacy mentors' community of practice",
        "",
        "Monthly online meeting for legacy mentors across the alliance to share resources "
        "and support each other. Ask the programme team to join.",
    ),
]


def items_done(relationship: Relationship) -> list[str]:
    """The checklist items done, in the map's order, for the stage the pair are in."""
    stage = relationship.stage
    if stage == Relationship.Stage.CLOSED:
        return [item for code in STAGE_ORDER for item in items_of(code)]
    if stage not in STAGE_ORDER:
        return list(DONE_WHEN_ENDED_EARLY)
    past = STAGE_ORDER[: STAGE_ORDER.index(stage)]
    return [item for code in past for item in items_of(code)] + DONE_IN_CURRENT_STAGE.get(stage, [])


def _spread(start: datetime.date, end: datetime.date, count: int) -> list[datetime.date]:
    """``count`` dates evenly between start and end (inclusive of neither, unless equal)."""
    span = max((end - start).days, 0)
    return [start + datetime.timedelta(days=span * (n + 1) // (count + 1)) for n in range(count)]


def seed_ticks(relationship: Relationship) -> None:
    items = items_done(relationship)
    end = relationship.ended_on or timezone.localdate()
    for item, done_on in zip(items, _spread(relationship.started_on, end, len(items)), strict=True):
        ChecklistTick.objects.get_or_create(
            relationship=relationship,
            item=item,
            defaults={"done_on": done_on, "done_by": relationship.mentor.user},
        )


def seed_closure(relationship: Relationship) -> None:
    """Give a closed relationship its reason and whether the pair carry on informally."""
    if relationship.stage != Relationship.Stage.CLOSED or relationship.closure_kind:
        return
    goals_met = relationship.closure_reason.lower().startswith("goals met")
    relationship.closure_kind = (
        Relationship.ClosureKind.GOALS_MET if goals_met else Relationship.ClosureKind.OTHER
    )
    relationship.continuing_informally = goals_met
    relationship.ended_by = relationship.ended_by or relationship.mentor.user
    relationship.save(update_fields=["closure_kind", "continuing_informally", "ended_by"])


def seed_resources(programme: Programme) -> None:
    organisation = programme.organisation
    for category, title, url, description in ALL_TRUSTS_RESOURCES:
        SupportResource.objects.get_or_create(
            organisation=organisation,
            trust=None,
            title=title,
            defaults={"category": category, "url": url, "description": description},
        )
    for trust in organisation.trusts.order_by("name"):
        code = trust.ods_code.lower()
        SupportResource.objects.get_or_create(
            organisation=organisation,
            trust=trust,
            title="Staff health and wellbeing service",
            defaults={
                "category": SupportResource.Category.WELLBEING,
                "url": f"https://{code}.example.org/staff-wellbeing",
                "description": "Counselling, physiotherapy and wellbeing conversations for "
                "staff, by self-referral.",
            },
        )
        SupportResource.objects.get_or_create(
            organisation=organisation,
            trust=trust,
            title="Professional nurse advocates",
            defaults={
                "category": SupportResource.Category.ADVOCATE,
                "url": f"https://{code}.example.org/professional-nurse-advocates",
                "description": "Restorative clinical supervision with a trained professional "
                "nurse advocate: book a conversation through the intranet.",
            },
        )


def seed(programme: Programme) -> None:
    """Ticks for each relationship's stage, closure details, and support resources."""
    relationships = Relationship.objects.filter(programme=programme).select_related("mentor__user")
    for relationship in relationships:
        seed_ticks(relationship)
        seed_closure(relationship)
    seed_resources(programme)
