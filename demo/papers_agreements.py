"""Demo agreements and goals for a programme's relationships.

Most relationships past setting up have an agreement signed by both, with goals and a
few updates; one relationship has a draft, one an agreement sent and waiting for
signatures, and one a second version signed after the first was changed. Idempotent:
a relationship that already has an agreement is left as it is.
"""

from __future__ import annotations

import datetime

from django.db.models import Prefetch
from django.utils import timezone

from mentoring import checklist
from mentoring.models import Agreement, Goal, GoalUpdate, Relationship
from mentoring.services_agreements import sync_goals

Stage = Relationship.Stage
PAST_SETTING_UP = (
    Stage.GETTING_STARTED,
    Stage.NAVIGATING,
    Stage.CONSOLIDATING,
    Stage.PARTING_WAYS,
    Stage.CLOSED,
)

GOAL_SETS = [
    [
        "Understand the cancer CNS role and what the MDT expects of it",
        "Build confidence in difficult conversations with patients and families",
        "Plan my week so that clinics, calls and admin all fit",
    ],
    [
        "Map my current practice against the ACCEND framework at enhanced level",
        "Find a clinical supervisor and use supervision regularly",
        "Protect time for my own health and wellbeing",
    ],
    [
        "Present a patient pathway update at the MDT meeting",
        "Set up a nurse-led telephone follow-up clinic",
        "Prioritise my development needs within the scope of my role",
    ],
]
FREQUENCIES = ["Once a month", "Every two weeks for three months, then monthly", "Every six weeks"]
DURATIONS = ["One hour", "45 minutes to an hour", "One hour, face to face where possible"]
RECORDING = (
    "We keep the session log after each meeting and review our goals together every three months."
)
UPDATE_NOTES = [
    ("in_progress", "Talked it through at our last session; first steps agreed."),
    ("in_progress", "Shadowed a senior CNS at two clinics; reflecting on what worked."),
    ("achieved", "Done, and feeling much more confident about it."),
]


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _values(relationship: Relationship, index: int) -> dict:
    return {
        "goals": "\n".join(GOAL_SETS[index % len(GOAL_SETS)]),
        "meeting_frequency": FREQUENCIES[index % len(FREQUENCIES)],
        "meeting_duration": DURATIONS[index % len(DURATIONS)],
        "evaluation_period": f"{relationship.programme.relationship_months} months",
        "progress_recording": RECORDING,
        "confidentiality": relationship.programme.confidentiality_statement,
        "shared_with_lead_nurse": index % 3 != 2,
        "created_by": relationship.mentor.user,
    }


def _signed(relationship: Relationship, values: dict, day: datetime.date) -> dict:
    return values | {
        "sent_at": _at(day, 9),
        "mentor_signed_name": relationship.mentor.user.full_name,
        "mentor_signed_at": _at(day, 10),
        "mentee_signed_name": relationship.mentee.full_name,
        "mentee_signed_at": _at(day, 16),
    }


def _signing_day(relationship: Relationship, days_after_start: int = 14) -> datetime.date:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    return min(relationship.started_on + datetime.timedelta(days=days_after_start), yesterday)


def _sign_off(relationship: Relationship, agreement: Agreement, day: datetime.date) -> None:
    agreement.relationship = relationship
    checklist.tick(relationship, "agreement_signed", by=relationship.mentor.user, on=day)
    sync_goals(agreement)


def _goal_updates(relationship: Relationship, index: int) -> None:
    """A few status changes for the first goals, by the mentor and the mentee."""
    goals = list(Goal.objects.filter(relationship=relationship).prefetch_related("updates"))
    closed = relationship.stage == Stage.CLOSED
    today = timezone.localdate()
    for number, goal in enumerate(goals[:2]):
        if goal.updates.all():
            continue
        steps = UPDATE_NOTES if closed or (index + number) % 2 == 0 else UPDATE_NOTES[:1]
        for step, (status, note) in enumerate(steps):
            by = relationship.mentee.user if step % 2 else relationship.mentor.user
            update = GoalUpdate.objects.create(goal=goal, status=status, note=note, by=by)
            when = max(
                relationship.started_on + datetime.timedelta(days=30 * (step + 1)),
                today - datetime.timedelta(days=20 - step * 5),
            )
            GoalUpdate.objects.filter(pk=update.pk).update(at=_at(min(when, today), 11))
            goal.status = status
        goal.save(update_fields=["status"])


def seed(programme) -> None:
    relationships = list(
        Relationship.objects.filter(programme=programme)
        .select_related("mentor__user", "mentee", "programme")
        .prefetch_related(Prefetch("agreements", queryset=Agreement.objects.only("pk")))
        .order_by("pk")
    )
    # Roles are chosen over every relationship, so a second run picks the same ones.
    eligible = [r for r in relationships if r.stage in PAST_SETTING_UP]
    open_eligible = [r for r in eligible if r.is_open]
    sent = next((r for r in open_eligible if r.stage == Stage.GETTING_STARTED), None)
    two_versions = next(
        (
            r
            for r in open_eligible
            if r.stage in (Stage.NAVIGATING, Stage.CONSOLIDATING) and r is not sent
        ),
        None,
    )
    draft = next((r for r in relationships if r.stage == Stage.SETTING_UP), None)
    if draft is None:
        draft = next((r for r in reversed(open_eligible) if r not in (sent, two_versions)), None)

    for index, relationship in enumerate(relationships):
        if relationship.agreements.all():
            continue  # seeded before
        values = _values(relationship, index)
        if relationship is draft:
            Agreement.objects.get_or_create(relationship=relationship, version=1, defaults=values)
        elif relationship is sent:
            Agreement.objects.get_or_create(
                relationship=relationship,
                version=1,
                defaults=values | {"sent_at": timezone.now() - datetime.timedelta(days=4)},
            )
        elif relationship is two_versions:
            first_day = _signing_day(relationship, 10)
            second_day = min(
                first_day + datetime.timedelta(days=60),
                timezone.localdate() - datetime.timedelta(days=1),
            )
            first, _ = Agreement.objects.get_or_create(
                relationship=relationship,
                version=1,
                defaults=_signed(relationship, values, first_day)
                | {"superseded_at": _at(second_day, 8)},
            )
            _sign_off(relationship, first, first_day)
            changed = values | {
                "goals": values["goals"] + "\nLead a teaching session for the ward team",
                "meeting_frequency": "Every two weeks",
            }
            second, _ = Agreement.objects.get_or_create(
                relationship=relationship,
                version=2,
                defaults=_signed(relationship, changed, second_day),
            )
            _sign_off(relationship, second, second_day)
            _goal_updates(relationship, index)
        elif relationship in eligible:
            day = _signing_day(relationship)
            agreement, _ = Agreement.objects.get_or_create(
                relationship=relationship,
                version=1,
                defaults=_signed(relationship, values, day),
            )
            _sign_off(relationship, agreement, day)
            _goal_updates(relationship, index)
