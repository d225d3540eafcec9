"""Each programme's survey schedule, and the invitations it makes.

A rule names a wave (``starter``, ``midpoint`` …), the instrument, who answers it, and
when: months and days after an anchor (the match date, the programme start or a
cohort milestone). ``create_due_invitations`` turns rules into invitations once they
fall due. Each invitation has a natural key, unique per programme, so running the job
again or twice at once makes nothing twice; its e-mails (the invitation and its
reminders) are ``SurveySend`` rows that ``surveys.sending`` sends exactly once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from mentoring.models import Mentee, Relationship
from mentoring.pseudonyms import line_manager_key, mentee_key, mentor_key
from programmes.audit import record
from programmes.erasure import is_erased_address
from programmes.models import AuditEvent, Milestone, Programme

from .instruments import default_instrument
from .models import (
    Audience,
    Instrument,
    InstrumentVersion,
    ScheduleRule,
    SurveyInvitation,
    SurveySend,
)

# Relationships that never ran, or ended early and were replaced, get no more surveys:
# the mentee's new relationship has its own waves.
NO_SURVEYS_STAGES = (Relationship.Stage.DECLINED, Relationship.Stage.REMATCHED)
# Reminders go at this local time on their day.
REMINDER_TIME = datetime.time(9, 0)


# --- When a rule falls due ------------------------------------------------------------


@dataclass(frozen=True)
class Anchors:
    """The dates rules count from, read once per programme."""

    programme_start: datetime.date
    # (cohort id, milestone kind) -> the earliest milestone of that kind in the cohort.
    milestones: dict[tuple[int, str], datetime.date]

    @classmethod
    def of(cls, programme: Programme) -> Anchors:
        first_cohort = programme.cohorts.aggregate(first=Min("starts_on"))["first"]
        milestones: dict[tuple[int, str], datetime.date] = {}
        rows = Milestone.objects.filter(cohort__programme=programme).values_list(
            "cohort_id", "kind", "due_on"
        )
        for cohort_id, kind, due_on in rows:
            key = (cohort_id, kind)
            if key not in milestones or due_on < milestones[key]:
                milestones[key] = due_on
        return cls(
            programme_start=first_cohort or timezone.localdate(programme.created_at),
            milestones=milestones,
        )


def anchor_date(
    rule: ScheduleRule, relationship: Relationship, anchors: Anchors
) -> datetime.date | None:
    """The date the rule counts from for this relationship; None if it has none."""
    if rule.anchor == ScheduleRule.Anchor.MATCH:
        return relationship.started_on
    if rule.anchor == ScheduleRule.Anchor.PROGRAMME_START:
        return anchors.programme_start
    cohort_id = relationship.mentee.cohort_id
    if cohort_id is None:
        return None
    return anchors.milestones.get((cohort_id, rule.milestone_kind))


def due_on(rule: ScheduleRule, anchor: datetime.date) -> datetime.date:
    return anchor + relativedelta(months=rule.offset_months, days=rule.offset_days)


def reminder_days(rule: ScheduleRule) -> list[int]:
    """The days after the invitation its reminders go: at most ``max_reminders``, and
    only while the survey is still open."""
    days = sorted({int(day) for day in rule.reminder_days if 0 < int(day) < rule.days_to_complete})
    return days[: rule.max_reminders]


def describe_timing(rule: ScheduleRule) -> str:
    """For people: "6 months after the match date"."""
    parts = []
    if rule.offset_months:
        parts.append(f"{rule.offset_months} month{'s' if rule.offset_months != 1 else ''}")
    if rule.offset_days:
        parts.append(f"{rule.offset_days} day{'s' if rule.offset_days != 1 else ''}")
    if rule.anchor == ScheduleRule.Anchor.MILESTONE:
        anchor = f"the cohort's {Milestone.Kind(rule.milestone_kind).label.lower()}"
    else:
        anchor = ScheduleRule.Anchor(rule.anchor).label.lower()
    if not parts:
        return f"On {anchor}"
    return f"{' and '.join(parts)} after {anchor}"


def describe_reminders(rule: ScheduleRule) -> str:
    days = reminder_days(rule)
    if not days:
        return "No reminders"
    listed = ", ".join(str(day) for day in days[:-1])
    listed = f"{listed} and {days[-1]}" if listed else str(days[-1])
    return f"After {listed} day{'s' if days != [1] else ''}"


# --- Who a rule asks ------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One person a rule asks about one relationship."""

    audience: str
    person_id: int
    email: str
    pseudonym: str
    mentee: Mentee | None
    mentor_id: int | None


def people_for(rule: ScheduleRule, relationship: Relationship) -> Iterator[Person]:
    """The person this rule asks about this relationship (none if they have no address,
    or only an erased person's)."""
    for person in _people_for(rule, relationship):
        if not is_erased_address(person.email):
            yield person


def _people_for(rule: ScheduleRule, relationship: Relationship) -> Iterator[Person]:
    mentee = relationship.mentee
    if rule.audience == Audience.MENTEE:
        yield Person(Audience.MENTEE, mentee.pk, mentee.email, mentee_key(mentee), mentee, None)
    elif rule.audience == Audience.MENTOR:
        mentor = relationship.mentor
        yield Person(
            Audience.MENTOR, mentor.pk, mentor.user.email, mentor_key(mentor), None, mentor.pk
        )
    elif rule.audience == Audience.LINE_MANAGER and mentee.line_manager_email:
        # A line manager has no record of their own: they are keyed by the mentee they
        # manage, and the invitation names no mentee, so nothing treats it as theirs.
        organisation = relationship.programme.organisation
        email = mentee.line_manager_email
        yield Person(
            Audience.LINE_MANAGER,
            mentee.pk,
            email,
            line_manager_key(organisation, email),
            None,
            None,
        )


def invitation_key(rule: ScheduleRule, person: Person, relationship: Relationship) -> str:
    return f"{rule.wave}:{person.audience}:{person.person_id}:{relationship.pk}"


def latest_versions(instrument_ids) -> dict[int, InstrumentVersion]:
    """Each instrument's newest version, in one query."""
    latest: dict[int, InstrumentVersion] = {}
    for version in InstrumentVersion.objects.filter(instrument_id__in=instrument_ids).order_by(
        "instrument_id", "-number"
    ):
        latest.setdefault(version.instrument_id, version)
    return latest


def surveyed_relationships(programme: Programme) -> Iterator[Relationship]:
    """The relationships surveys are about, each carrying the programme already loaded."""
    relationships = (
        programme.relationships.exclude(stage__in=NO_SURVEYS_STAGES)
        .exclude(mentee__status=Mentee.Status.WITHDRAWN)
        .select_related("mentee", "mentor__user")
        .order_by("pk")
    )
    for relationship in list(relationships):
        relationship.programme = programme
        relationship.mentee.programme = programme
        relationship.mentor.programme = programme
        yield relationship


# --- Making invitations ---------------------------------------------------------------


def _reminder_due_at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, REMINDER_TIME))


def invite(
    rule: ScheduleRule,
    version: InstrumentVersion,
    relationship: Relationship,
    person: Person,
    due: datetime.date,
    *,
    now: datetime.datetime,
) -> SurveyInvitation | None:
    """Create the invitation and its sends, once; None if it already exists.

    The first e-mail is due now; each reminder is due its number of days after the
    survey went out (the due date, or today when the invitation is made later).
    """
    today = timezone.localdate(now)
    try:
        with transaction.atomic():
            invitation = SurveyInvitation.objects.create(
                programme=rule.programme,
                rule=rule,
                version=version,
                wave=rule.wave,
                audience=person.audience,
                mentee=person.mentee,
                mentor_id=person.mentor_id,
                relationship=relationship,
                email=person.email,
                pseudonym=person.pseudonym,
                key=invitation_key(rule, person, relationship),
                due_on=due,
                expires_on=due + datetime.timedelta(days=rule.days_to_complete),
            )
            went_out = max(due, today)
            SurveySend.objects.bulk_create(
                [SurveySend(invitation=invitation, number=0, due_at=now)]
                + [
                    SurveySend(
                        invitation=invitation,
                        number=number,
                        due_at=_reminder_due_at(went_out + datetime.timedelta(days=day)),
                    )
                    for number, day in enumerate(reminder_days(rule), start=1)
                ]
            )
    except IntegrityError:
        # Another run made it first (the key is unique per programme).
        return None
    return invitation


def create_due_invitations(
    programme: Programme,
    today: datetime.date | None = None,
    *,
    now: datetime.datetime | None = None,
) -> int:
    """Invite everyone whose wave has fallen due and is still open; return how many.

    An invitation is made once its due date has come and until the days to complete
    it have passed, so a rule added late reaches the waves still open and no one
    gets a survey that has already closed.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    rules = list(programme.schedule_rules.filter(active=True))
    for rule in rules:
        rule.programme = programme
    if not rules:
        return 0
    versions = latest_versions({rule.instrument_id for rule in rules})
    anchors = Anchors.of(programme)
    existing = set(programme.survey_invitations.values_list("key", flat=True))
    created = 0
    for relationship in surveyed_relationships(programme):
        for rule in rules:
            version = versions.get(rule.instrument_id)
            anchor = anchor_date(rule, relationship, anchors)
            if version is None or anchor is None:
                continue
            due = due_on(rule, anchor)
            if not due <= today <= due + datetime.timedelta(days=rule.days_to_complete):
                continue
            for person in people_for(rule, relationship):
                if invitation_key(rule, person, relationship) in existing:
                    continue
                if invite(rule, version, relationship, person, due, now=now) is not None:
                    created += 1
    return created


# --- The standard schedule ------------------------------------------------------------


@dataclass(frozen=True)
class StandardWave:
    wave: str
    kind: str
    audience: str
    months: int
    title: str


def standard_waves(programme: Programme) -> list[StandardWave]:
    """Starter at the match, midpoint half-way, closure at the end of the relationship,
    follow-ups 3, 6 and 12 months after it; the mentor's interim and closure surveys."""
    length = programme.relationship_months or 12
    half = max(length // 2, 1)
    kind = Instrument.Kind
    return [
        StandardWave("starter", kind.MENTEE_STARTER, Audience.MENTEE, 0, "Mentee starter"),
        StandardWave("midpoint", kind.MENTEE_MIDPOINT, Audience.MENTEE, half, "Mentee midpoint"),
        StandardWave("closure", kind.MENTEE_CLOSURE, Audience.MENTEE, length, "Mentee closure"),
        StandardWave(
            "follow_up_3", kind.FOLLOW_UP, Audience.MENTEE, length + 3, "Follow-up at 3 months"
        ),
        StandardWave(
            "follow_up_6", kind.FOLLOW_UP, Audience.MENTEE, length + 6, "Follow-up at 6 months"
        ),
        StandardWave(
            "follow_up_12", kind.FOLLOW_UP, Audience.MENTEE, length + 12, "Follow-up at 12 months"
        ),
        StandardWave(
            "mentor_interim", kind.MENTOR_INTERIM, Audience.MENTOR, half, "Mentor interim"
        ),
        StandardWave(
            "mentor_closure", kind.MENTOR_CLOSURE, Audience.MENTOR, length, "Mentor closure"
        ),
    ]


STANDARD_REMINDER_DAYS = [7, 14]
STANDARD_MAX_REMINDERS = 2
STANDARD_DAYS_TO_COMPLETE = 28


def add_standard_schedule(programme: Programme, *, actor=None, path: str = "") -> list[str]:
    """Add each standard wave the programme does not have yet; return the waves added.

    A wave already in the schedule (even changed or switched off) is left alone.
    """
    added: list[str] = []
    with transaction.atomic():
        Programme.objects.select_for_update(of=("self",)).filter(pk=programme.pk).exists()
        present = set(programme.schedule_rules.values_list("wave", flat=True))
        for standard in standard_waves(programme):
            if standard.wave in present:
                continue
            rule = ScheduleRule.objects.create(
                programme=programme,
                instrument=default_instrument(programme, standard.kind),
                wave=standard.wave,
                audience=standard.audience,
                anchor=ScheduleRule.Anchor.MATCH,
                offset_months=standard.months,
                reminder_days=list(STANDARD_REMINDER_DAYS),
                max_reminders=STANDARD_MAX_REMINDERS,
                days_to_complete=STANDARD_DAYS_TO_COMPLETE,
            )
            record(
                organisation=programme.organisation,
                actor=actor,
                action=AuditEvent.Action.CREATE,
                obj=rule,
                object_type="schedule rule",
                label=f"Standard survey wave {rule.wave} added to {programme.name}",
                fields=["wave", "instrument", "audience", "anchor", "offset_months"],
                path=path,
            )
            added.append(standard.wave)
    return added


def save_rule(rule: ScheduleRule, *, changed: list[str], actor, path: str = "") -> ScheduleRule:
    """Save a new or changed rule. Invitations already made keep their dates."""
    creating = rule.pk is None
    with transaction.atomic():
        rule.save()
        record(
            organisation=rule.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.CHANGE,
            obj=rule,
            object_type="schedule rule",
            label=f"Survey wave {rule.wave} of {rule.programme.name}",
            fields=changed,
            path=path,
        )
    return rule


def set_active(rule: ScheduleRule, active: bool, *, actor, path: str = "") -> bool:
    """Switch a rule on or off; True if it changed. Off: no new invitations are made;
    e-mails of invitations already made still go."""
    if rule.active == active:
        return False
    rule.active = active
    with transaction.atomic():
        rule.save(update_fields=["active"])
        record(
            organisation=rule.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=rule,
            object_type="schedule rule",
            label=f"Survey wave {rule.wave} {'switched on' if active else 'switched off'}",
            fields=["active"],
            path=path,
        )
    return True
