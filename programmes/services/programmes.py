"""Setting up programmes: criteria, cohorts, their timelines and attendance.

Each function that changes several rows runs in one transaction and records the
audit trail with field names only, never their content.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from programmes.audit import record
from programmes.models import (
    DEFAULT_CRITERIA,
    Application,
    Attendance,
    AuditEvent,
    Cohort,
    Criterion,
    Milestone,
    Organisation,
    Programme,
)

# Milestones whose attendance is recorded person by person.
ATTENDANCE_KINDS = frozenset({Milestone.Kind.ORIENTATION, Milestone.Kind.CPD})


@dataclass(frozen=True)
class StandardMilestone:
    kind: str
    title: str
    offset: relativedelta
    compulsory: bool = False

    def due_on(self, starts_on: datetime.date) -> datetime.date:
        return starts_on + self.offset


# The national research academy's cohort shape (DESIGN.md section 1). "4.5 months"
# is read as four calendar months and fifteen days.
STANDARD_TIMELINE: tuple[StandardMilestone, ...] = (
    StandardMilestone(Milestone.Kind.ORIENTATION, "Orientation", relativedelta(), True),
    StandardMilestone(Milestone.Kind.MATCH_CONFIRMED, "Match confirmed", relativedelta(months=1)),
    StandardMilestone(Milestone.Kind.CPD, "CPD workshop", relativedelta(months=2)),
    StandardMilestone(Milestone.Kind.CHECK_IN, "Check-in point", relativedelta(months=3)),
    StandardMilestone(
        Milestone.Kind.INTERIM_EVALUATION,
        "Interim evaluation (mentors and mentees)",
        relativedelta(months=4, days=15),
    ),
    StandardMilestone(
        Milestone.Kind.SUMMATIVE_EVALUATION,
        "12-month summative evaluation",
        relativedelta(months=12),
    ),
    StandardMilestone(Milestone.Kind.FINAL_REPORT, "Final report", relativedelta(months=13)),
)


class CriterionInUse(Exception):
    """A criterion that mentors, mentees or applicants have chosen cannot be removed."""


class NoStartDate(Exception):
    """The standard timeline counts from the cohort's start date, so it needs one."""


# --- Programmes ---------------------------------------------------------------


def create_programme(
    organisation: Organisation, *, actor=None, path: str = "", **values
) -> Programme:
    """Create a programme with the twelve default matching criteria, each of weight 1."""
    with transaction.atomic():
        programme = Programme(organisation=organisation, **values)
        if programme.status == Programme.Status.CLOSED:
            programme.closed_on = timezone.localdate()
        programme.full_clean(exclude=["organisation"])
        programme.save()
        add_default_criteria(programme)
        record(
            organisation=organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=programme,
            label=programme.name,
            fields=values.keys(),
            path=path,
        )
    return programme


def add_default_criteria(programme: Programme) -> list[Criterion]:
    """The twelve default matching criteria at weight 1; codes the programme has are kept."""
    present = set(programme.criteria.values_list("code", flat=True))
    Criterion.objects.bulk_create(
        Criterion(programme=programme, code=code, label=label, weight=1, position=position)
        for position, (code, label) in enumerate(DEFAULT_CRITERIA)
        if code not in present
    )
    return list(programme.criteria.all())


def update_programme(
    programme: Programme, *, values: Mapping, actor=None, path: str = ""
) -> list[str]:
    """Apply ``values`` and record the names of the fields that changed.

    Compares with the saved row, not ``programme``: a bound ModelForm has already
    copied the new values onto its instance.
    """
    with transaction.atomic():
        saved = programme.organisation.programmes.select_for_update().get(pk=programme.pk)
        changed = [name for name, value in values.items() if getattr(saved, name) != value]
        if not changed:
            return []
        for name in changed:
            setattr(saved, name, values[name])
            setattr(programme, name, values[name])
        update_fields = list(changed)
        if "status" in changed:
            # Retention counts from the day the programme closed; reopening stops the clock.
            closed = saved.status == Programme.Status.CLOSED
            saved.closed_on = programme.closed_on = timezone.localdate() if closed else None
            update_fields.append("closed_on")
        saved.save(update_fields=update_fields)
        record(
            organisation=programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=saved,
            label=saved.name,
            fields=changed,
            path=path,
        )
    return changed


# --- Criteria -----------------------------------------------------------------


def criteria_in_use(programme: Programme) -> set[int]:
    """Ids of the programme's criteria that a mentor offers, a mentee wants or an applicant ranked.

    Two queries whatever the number of criteria. The mentor and mentee links are
    reached through Criterion's reverse relations, so this app imports no other.
    """
    offered = Criterion.mentors.through.objects.filter(criterion_id=OuterRef("pk"))
    wanted = Criterion.mentees.through.objects.filter(criterion_id=OuterRef("pk"))
    used = set(
        programme.criteria.filter(Exists(offered) | Exists(wanted)).values_list("pk", flat=True)
    )
    codes = dict(programme.criteria.exclude(pk__in=used).values_list("code", "pk"))
    if codes:
        # Ranked criteria are stored as a JSON list of codes. Codes are slugs, so a
        # quoted code matches exactly one element of the list's text.
        ranked = Q()
        for code in codes:
            ranked |= Q(ranked_criteria__icontains=f'"{code}"')
        for ranking in programme.applications.filter(ranked).values_list(
            "ranked_criteria", flat=True
        ):
            used.update(codes[code] for code in ranking if code in codes)
    return used


def unique_criterion_code(programme: Programme, label: str) -> str:
    base = (slugify(label) or "criterion")[:34]
    taken = set(programme.criteria.filter(code__startswith=base).values_list("code", flat=True))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def save_criteria(
    programme: Programme,
    *,
    changes: Mapping[int, Mapping] | None = None,
    removals: Iterable[int] = (),
    new_label: str = "",
    new_weight: int = 1,
    actor=None,
    path: str = "",
) -> Criterion | None:
    """Change labels and weights, remove unused criteria and add a custom one, all at once.

    ``changes`` maps a criterion id to its new ``label`` and ``weight``; ``removals``
    are criterion ids. Raises ``CriterionInUse`` (and changes nothing) if a criterion
    to remove is in use.
    """
    changes = changes or {}
    removals = set(removals)
    with transaction.atomic():
        saved = programme.criteria.select_for_update().in_bulk([*changes, *removals])
        if removals:
            blocked = [saved[pk].label for pk in sorted(removals & criteria_in_use(programme))]
            if blocked:
                raise CriterionInUse(", ".join(blocked))

        changed_fields: set[str] = set()
        to_update = []
        for pk, values in changes.items():
            criterion = saved.get(pk)
            if criterion is None or pk in removals:
                continue
            fields = [name for name, value in values.items() if getattr(criterion, name) != value]
            for name in fields:
                setattr(criterion, name, values[name])
            if fields:
                to_update.append(criterion)
                changed_fields.update(fields)
        if to_update:
            Criterion.objects.bulk_update(to_update, sorted(changed_fields))
            _record_criteria(programme, AuditEvent.Action.CHANGE, changed_fields, actor, path)
        if removals:
            programme.criteria.filter(pk__in=removals).delete()
            _record_criteria(programme, AuditEvent.Action.DELETE, (), actor, path)

        created = None
        if new_label.strip():
            last = programme.criteria.order_by("-position").values_list("position", flat=True)
            created = Criterion.objects.create(
                programme=programme,
                code=unique_criterion_code(programme, new_label),
                label=new_label.strip(),
                weight=new_weight,
                position=(last.first() or 0) + 1,
            )
            _record_criteria(programme, AuditEvent.Action.CREATE, ("label", "weight"), actor, path)
    return created


def _record_criteria(programme, action, fields, actor, path) -> None:
    record(
        organisation=programme.organisation,
        actor=actor,
        action=action,
        object_type="criterion",
        object_id=programme.pk,
        label=f"Criteria of {programme.name}",
        fields=fields,
        path=path,
    )


# --- Cohorts and timelines -------------------------------------------------------


def add_standard_timeline(cohort: Cohort, *, actor=None, path: str = "") -> list[Milestone]:
    """Add the seven standard milestones, counted from the cohort's start date.

    Kinds the cohort already has are left alone, so adding it twice adds nothing.
    """
    if cohort.starts_on is None:
        raise NoStartDate(cohort.name)
    with transaction.atomic():
        present = set(cohort.milestones.values_list("kind", flat=True))
        milestones = Milestone.objects.bulk_create(
            Milestone(
                cohort=cohort,
                kind=step.kind,
                title=step.title,
                due_on=step.due_on(cohort.starts_on),
                compulsory=step.compulsory,
            )
            for step in STANDARD_TIMELINE
            if step.kind not in present
        )
        if milestones:
            record(
                organisation=cohort.programme.organisation,
                actor=actor,
                action=AuditEvent.Action.CREATE,
                object_type="milestone",
                object_id=cohort.pk,
                label=f"Standard timeline for {cohort.name}",
                fields=("kind", "title", "due_on", "compulsory"),
                path=path,
            )
    return milestones


def standard_timeline_preview(cohort: Cohort) -> list[dict]:
    """What ``add_standard_timeline`` would add, for the confirmation page."""
    present = set(cohort.milestones.values_list("kind", flat=True))
    return [
        {
            "kind": Milestone.Kind(step.kind).label,
            "title": step.title,
            "due_on": step.due_on(cohort.starts_on) if cohort.starts_on else None,
            "compulsory": step.compulsory,
            "present": step.kind in present,
        }
        for step in STANDARD_TIMELINE
    ]


def milestones_of(programme: Programme) -> QuerySet[Milestone]:
    return Milestone.objects.filter(cohort__programme=programme).select_related("cohort")


def due_next(milestones: QuerySet[Milestone], today: datetime.date) -> list[Milestone]:
    """The milestones on the first date on or after ``today`` (several may share it)."""
    upcoming = milestones.filter(due_on__gte=today).order_by("due_on", "pk")
    first = upcoming.first()
    if first is None:
        return []
    return list(upcoming.filter(due_on=first.due_on)[:20])


def days_to_go(due_on: datetime.date, today: datetime.date) -> str:
    days = (due_on - today).days
    if days == 0:
        return "Today"
    if days == 1:
        return "Tomorrow (1 day to go)"
    return f"{days} days to go"


# --- Attendance ---------------------------------------------------------------


def cohort_members(cohort: Cohort) -> Q:
    """The people who belong to a cohort, besides its applicants.

    Its mentees (records that name the cohort) and, for programmes that do not run
    applications, the programme's mentors. Reached through reverse relations, so
    this app imports nothing from ``mentoring``.
    """
    members = Q(pk__in=cohort.mentees.exclude(user=None).values("user_id"))
    if not cohort.programme.takes_applications:
        members |= Q(pk__in=cohort.programme.mentors.values("user_id"))
    return members


def attendance_people(milestone: Milestone):
    """Everyone whose attendance at this milestone may be recorded.

    People who applied to the cohort (unless declined or withdrawn), anyone already
    recorded, and the cohort's members.
    """
    cohort = milestone.cohort
    applicants = Application.objects.filter(cohort=cohort).exclude(
        status__in=[Application.Status.DECLINED, Application.Status.WITHDRAWN]
    )
    recorded = milestone.attendance.all()
    attended = milestone.attendance.filter(user_id=OuterRef("pk"), attended=True)
    return (
        get_user_model()
        .objects.filter(
            Q(pk__in=applicants.values("applicant_id"))
            | cohort_members(cohort)
            | Q(pk__in=recorded.values("user_id"))
        )
        .annotate(has_attended=Exists(attended))
        .order_by("full_name", "email")
    )


def orientation_outstanding(cohort: Cohort):
    """Accepted applicants and the cohort's members without an attended orientation of
    this cohort: the people to chase before matching."""
    accepted = Application.objects.filter(cohort=cohort, status=Application.Status.ACCEPTED)
    oriented = Attendance.objects.filter(
        milestone__cohort=cohort, milestone__kind=Milestone.Kind.ORIENTATION, attended=True
    )
    return (
        get_user_model()
        .objects.filter(Q(pk__in=accepted.values("applicant_id")) | cohort_members(cohort))
        .exclude(pk__in=oriented.values("user_id"))
        .annotate(accepted_applicant=Exists(accepted.filter(applicant_id=OuterRef("pk"))))
        .order_by("full_name", "email")
    )


def search_people(people, query: str):
    query = query.strip()
    if not query:
        return people
    return people.filter(Q(full_name__icontains=query) | Q(email__icontains=query))


def record_attendance(
    milestone: Milestone,
    *,
    shown_user_ids: Iterable[int],
    attended_user_ids: Iterable[int],
    actor=None,
    path: str = "",
) -> int:
    """Record who attended among the people shown on one page; returns how many changed.

    A person ticked gets an attended row; a person unticked who had a row is marked
    absent. People without a row who were not ticked get none.
    """
    if milestone.kind not in ATTENDANCE_KINDS:
        raise ValueError("Attendance is recorded for orientation and CPD workshops only.")
    shown = set(shown_user_ids)
    attended = set(attended_user_ids) & shown
    with transaction.atomic():
        existing = {a.user_id: a for a in milestone.attendance.filter(user_id__in=shown)}
        to_update = []
        for user_id, row in existing.items():
            if row.attended != (user_id in attended):
                row.attended = user_id in attended
                row.recorded_by = actor
                to_update.append(row)
        to_create = [
            Attendance(milestone=milestone, user_id=user_id, attended=True, recorded_by=actor)
            for user_id in sorted(attended - set(existing))
        ]
        if to_update:
            # bulk_update skips auto_now, so set the time it was recorded here.
            now = timezone.now()
            for row in to_update:
                row.recorded_at = now
            Attendance.objects.bulk_update(to_update, ["attended", "recorded_by", "recorded_at"])
        if to_create:
            Attendance.objects.bulk_create(to_create)
        changed = len(to_update) + len(to_create)
        if changed:
            record(
                organisation=milestone.cohort.programme.organisation,
                actor=actor,
                action=AuditEvent.Action.CHANGE,
                object_type="attendance",
                object_id=milestone.pk,
                label=f"{milestone} of {milestone.cohort.name}: {changed} people",
                fields=("attended",),
                path=path,
            )
    return changed
