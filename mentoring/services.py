"""Operations on mentee records and mentor profiles.

Each one runs in a transaction, records the audit trail, and sends any e-mail
only once the transaction has committed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from programmes import audit
from programmes.models import AuditEvent, Programme

from .models import Mentee, Mentor, Relationship
from .signals import relationship_ended_early

WITHDRAWABLE = (
    Mentee.Status.IDENTIFIED,
    Mentee.Status.AWAITING_MATCH,
    Mentee.Status.MATCHED,
    Mentee.Status.ACTIVE,
)


def eligibility_cut_off(programme: Programme, on: datetime.date | None = None) -> datetime.date:
    """The earliest appointment date inside the programme's eligibility window on a day."""
    return (on or timezone.localdate()) - relativedelta(months=programme.eligibility_months)


def appointed_outside_scope(
    programme: Programme, appointed_on: datetime.date, identified_on: datetime.date | None = None
) -> bool:
    """Whether someone appointed on that date was outside the window when identified.

    Eligibility is judged on the day the mentee was identified: a mentee who waits
    in the queue past the window's end was still in scope when the lead nurse
    added them, and does not need an exception later.
    """
    return appointed_on < eligibility_cut_off(programme, identified_on)


def is_outside_scope(mentee: Mentee) -> bool:
    """Outside the eligibility window; a record with no appointment date yet is not."""
    if mentee.appointed_on is None:
        return False
    identified_on = timezone.localtime(mentee.identified_at).date()
    return appointed_outside_scope(mentee.programme, mentee.appointed_on, identified_on)


def _record(mentee_or_mentor, action: str, *, actor, path: str, fields: Iterable[str] = ()):
    audit.record(
        organisation=mentee_or_mentor.programme.organisation,
        actor=actor,
        action=action,
        obj=mentee_or_mentor,
        label=str(mentee_or_mentor),
        fields=fields,
        path=path,
    )


def add_mentee(
    mentee: Mentee, *, criteria=None, fields: Iterable[str] = (), actor, path: str = ""
) -> Mentee:
    """Save a newly identified mentee (no account needed) and record who added them."""
    with transaction.atomic():
        mentee.created_by = actor if getattr(actor, "is_authenticated", False) else None
        mentee.save()
        if criteria is not None:
            mentee.criteria_wanted.set(criteria)
        _record(mentee, AuditEvent.Action.CREATE, actor=actor, path=path, fields=fields)
    return mentee


def update_mentee(
    mentee: Mentee, *, criteria=None, fields: Iterable[str], actor, path: str = ""
) -> Mentee:
    with transaction.atomic():
        mentee.save()
        if criteria is not None:
            mentee.criteria_wanted.set(criteria)
        _record(mentee, AuditEvent.Action.CHANGE, actor=actor, path=path, fields=fields)
    return mentee


def change_priority(mentee: Mentee, *, priority: int, reason: str, actor, path: str = "") -> Mentee:
    with transaction.atomic():
        changed = [
            name
            for name, value in (("priority", priority), ("priority_reason", reason))
            if getattr(mentee, name) != value
        ]
        mentee.priority = priority
        mentee.priority_reason = reason
        mentee.save(update_fields=["priority", "priority_reason"])
        _record(mentee, AuditEvent.Action.CHANGE, actor=actor, path=path, fields=changed)
    return mentee


def can_withdraw(mentee: Mentee) -> bool:
    return mentee.status in WITHDRAWABLE


def withdraw_mentee(mentee: Mentee, *, reason: str, actor, path: str = "") -> Mentee:
    """Withdraw a mentee from the programme with a reason.

    A withdrawn mentee keeps no open relationship: any open one is closed today
    and its mentor is told by e-mail.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError("Enter the reason for withdrawing this mentee.")
    with transaction.atomic():
        mentee = (
            Mentee.objects.select_for_update(of=("self",))
            .select_related("programme")
            .get(pk=mentee.pk)
        )
        if not can_withdraw(mentee):
            raise ValidationError(f"This mentee is already {mentee.get_status_display().lower()}.")
        mentee.status = Mentee.Status.WITHDRAWN
        mentee.withdrawn_reason = reason
        mentee.save(update_fields=["status", "withdrawn_reason"])
        _record(
            mentee,
            AuditEvent.Action.CHANGE,
            actor=actor,
            path=path,
            fields=["status", "withdrawn_reason"],
        )
        today = timezone.localdate()
        open_relationships = list(
            mentee.relationships.filter(stage__in=Relationship.OPEN_STAGES).select_related(
                "mentor__user"
            )
        )
        for relationship in open_relationships:
            relationship.stage = Relationship.Stage.CLOSED
            relationship.ended_on = today
            relationship.closure_reason = "The mentee was withdrawn from the programme."
            relationship.save(update_fields=["stage", "ended_on", "closure_reason"])
            _record(
                relationship,
                AuditEvent.Action.CHANGE,
                actor=actor,
                path=path,
                fields=["stage", "ended_on", "closure_reason"],
            )
            transaction.on_commit(
                lambda r=relationship: _tell_mentor_of_withdrawal(r, mentee.full_name)
            )
    return mentee


def _tell_mentor_of_withdrawal(relationship: Relationship, mentee_name: str) -> None:
    mentor_user = relationship.mentor.user
    send_mail(
        subject=f"{mentee_name} has left {relationship.programme.name}",
        message=(
            f"Dear {mentor_user.get_short_name()},\n\n"
            f"{mentee_name} has been withdrawn from {relationship.programme.name}, so your "
            "mentoring relationship with them is now closed. Your lead nurse can tell you more.\n"
        ),
        from_email=None,
        recipient_list=[mentor_user.email],
    )


# --- Mentor profiles --------------------------------------------------------------


def update_mentor_profile(
    mentor: Mentor, *, criteria=None, fields: Iterable[str], actor, path: str = ""
) -> Mentor:
    with transaction.atomic():
        mentor.save()
        if criteria is not None:
            mentor.criteria_offered.set(criteria)
        _record(mentor, AuditEvent.Action.CHANGE, actor=actor, path=path, fields=fields)
    return mentor


def with_caseload(mentors: QuerySet[Mentor], on: datetime.date | None = None) -> QuerySet[Mentor]:
    """Annotate each mentor with ``open_count`` and ``started_last_year`` in one query."""
    year_ago = (on or timezone.localdate()) - relativedelta(months=12)
    return mentors.annotate(
        open_count=Count(
            "relationships",
            filter=Q(relationships__stage__in=Relationship.OPEN_STAGES),
            distinct=True,
        ),
        started_last_year=Count(
            "relationships",
            filter=Q(relationships__started_on__gte=year_ago)
            & ~Q(relationships__stage=Relationship.Stage.DECLINED),
            distinct=True,
        ),
    )


@dataclass(frozen=True)
class Caseload:
    """A mentor's caseload against their capacity and the programme's target."""

    open_now: int
    max_concurrent: int
    started_last_year: int
    max_per_year: int
    target: int

    @classmethod
    def of(cls, mentor: Mentor) -> Caseload:
        """From a mentor annotated by ``with_caseload`` (with its programme loaded)."""
        return cls(
            open_now=mentor.open_count,
            max_concurrent=mentor.max_concurrent,
            started_last_year=mentor.started_last_year,
            max_per_year=mentor.max_per_year,
            target=mentor.programme.caseload_target,
        )

    @property
    def at_capacity(self) -> bool:
        return self.open_now >= self.max_concurrent

    @property
    def over_capacity(self) -> bool:
        return self.open_now > self.max_concurrent

    @property
    def year_full(self) -> bool:
        return self.started_last_year >= self.max_per_year

    @property
    def target_met(self) -> bool:
        return self.started_last_year >= self.target


# --- Ending a relationship early ----------------------------------------------------


def end_early(relationship: Relationship, *, reason: str, actor, path: str = "") -> Relationship:
    """End an open relationship early: the mentee returns to the queue for a new mentor.

    The relationship keeps the stage "rematched", which the evaluation counts.
    ``relationship_ended_early`` lets matching exclude the pair and tell both people.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError("Enter the reason for ending this match.")
    with transaction.atomic():
        relationship = (
            Relationship.objects.select_for_update(of=("self",))
            .select_related("mentee", "mentor__user", "programme__organisation")
            .get(pk=relationship.pk)
        )
        if not relationship.is_open:
            raise ValidationError("This relationship has already ended.")
        relationship.stage = Relationship.Stage.REMATCHED
        relationship.ended_on = timezone.localdate()
        relationship.closure_reason = reason
        relationship.ended_by = actor if getattr(actor, "is_authenticated", False) else None
        relationship.save(update_fields=["stage", "ended_on", "closure_reason", "ended_by"])
        mentee = relationship.mentee
        if mentee.status in (Mentee.Status.MATCHED, Mentee.Status.ACTIVE):
            mentee.status = Mentee.Status.AWAITING_MATCH
            mentee.save(update_fields=["status"])
        audit.record(
            organisation=relationship.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=relationship,
            label="Ended early for a rematch",
            fields=["stage", "ended_on", "closure_reason", "ended_by"],
            path=path,
        )
        relationship_ended_early.send(sender=Relationship, relationship=relationship, actor=actor)
    return relationship


# --- Closing a relationship, and referring a mentee again ---------------------------

REMATCH_NOTE = "Closed by the mentor so that the mentee can be matched again."


def can_close(relationship: Relationship, user, access) -> bool:
    """The mentor of an open relationship, or an organisation admin."""
    if not relationship.is_open:
        return False
    return access.is_admin or relationship.mentor.user_id == user.pk


def close_relationship(
    relationship: Relationship,
    *,
    kind: str,
    note: str = "",
    continuing_informally: bool,
    actor,
    path: str = "",
) -> Relationship:
    """Close an open relationship with the reason and whether the pair carry on informally.

    The relationship and its papers become read-only, and the mentee's record is
    closed. Closing for a rematch takes the end-early route instead: the mentee goes
    back to the queue and matching excludes the pair.
    """
    note = note.strip()
    with transaction.atomic():
        if kind == Relationship.ClosureKind.REMATCHED:
            relationship = end_early(
                relationship, reason=note or REMATCH_NOTE, actor=actor, path=path
            )
            relationship.closure_kind = kind
            relationship.continuing_informally = continuing_informally
            relationship.save(update_fields=["closure_kind", "continuing_informally"])
            audit.record(
                organisation=relationship.programme.organisation,
                actor=actor,
                action=AuditEvent.Action.CHANGE,
                obj=relationship,
                label="Closed for a rematch",
                fields=["closure_kind", "continuing_informally"],
                path=path,
            )
            return relationship
        relationship = (
            Relationship.objects.select_for_update(of=("self",))
            .select_related("mentee", "mentor__user", "programme__organisation")
            .get(pk=relationship.pk)
        )
        if not relationship.is_open:
            raise ValidationError("This relationship has already ended.")
        relationship.stage = Relationship.Stage.CLOSED
        relationship.ended_on = timezone.localdate()
        relationship.ended_by = actor if getattr(actor, "is_authenticated", False) else None
        relationship.closure_kind = kind
        relationship.closure_reason = note
        relationship.continuing_informally = continuing_informally
        fields = [
            "stage",
            "ended_on",
            "ended_by",
            "closure_kind",
            "closure_reason",
            "continuing_informally",
        ]
        relationship.save(update_fields=fields)
        audit.record(
            organisation=relationship.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=relationship,
            label=f"Closed: {relationship.get_closure_kind_display()}",
            fields=fields,
            path=path,
        )
        mentee = relationship.mentee
        if mentee.status != Mentee.Status.WITHDRAWN:
            mentee.status = Mentee.Status.CLOSED
            mentee.save(update_fields=["status"])
            _record(mentee, AuditEvent.Action.CHANGE, actor=actor, path=path, fields=["status"])
    return relationship


def can_refer_again(mentee: Mentee) -> bool:
    return mentee.status == Mentee.Status.CLOSED


def refer_again(mentee: Mentee, *, reason_label: str, actor, path: str = "") -> Mentee:
    """Put a closed mentee back in the queue to be matched with a mentor again.

    ``reason_label`` is one of a fixed list of reasons, so it may go in the audit label.
    """
    with transaction.atomic():
        mentee = (
            Mentee.objects.select_for_update(of=("self",))
            .select_related("programme__organisation")
            .get(pk=mentee.pk)
        )
        if not can_refer_again(mentee):
            raise ValidationError(
                f"This mentee is {mentee.get_status_display().lower()}, "
                "so cannot be referred again."
            )
        if mentee.relationships.filter(stage__in=Relationship.OPEN_STAGES).exists():
            raise ValidationError("This mentee already has a mentor.")
        mentee.status = Mentee.Status.AWAITING_MATCH
        mentee.save(update_fields=["status"])
        audit.record(
            organisation=mentee.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=mentee,
            label=f"Referred again: {reason_label}",
            fields=["status"],
            path=path,
        )
    return mentee


# --- Activity of relationships: sessions, agreement, needs attention ----------------


def with_activity(
    relationships: QuerySet[Relationship], *, held_before: datetime.date | None = None
) -> QuerySet[Relationship]:
    """Annotate each relationship with its sessions in one query, whatever their number.

    ``sessions_count`` and ``minutes_total`` count every log entry linked to the
    relationship (a group session counts once for each relationship in it);
    ``last_session_on`` is the latest; ``gap_since`` is that date or, with no
    session yet, the start of the relationship. ``held_before`` counts only sessions
    held before that day (a report for a past month).
    """
    from django.db.models import DateField, IntegerField, Max, OuterRef, Subquery, Sum
    from django.db.models.functions import Coalesce

    from .models import SessionLog

    links = SessionLog.relationships.through.objects.filter(relationship_id=OuterRef("pk"))
    if held_before is not None:
        links = links.filter(sessionlog__held_on__lt=held_before)
    links = links.order_by().values("relationship_id")
    return relationships.annotate(
        sessions_count=Coalesce(
            Subquery(links.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()),
            0,
        ),
        minutes_total=Coalesce(
            Subquery(
                links.annotate(m=Sum("sessionlog__duration_minutes")).values("m")[:1],
                output_field=IntegerField(),
            ),
            0,
        ),
        last_session_on=Subquery(
            links.annotate(d=Max("sessionlog__held_on")).values("d")[:1],
            output_field=DateField(),
        ),
    ).annotate(gap_since=Coalesce("last_session_on", "started_on", output_field=DateField()))


def needs_attention_condition(programmes: Iterable[Programme], today: datetime.date):
    """True for an open relationship whose gap has reached its programme's inactivity days.

    Needs ``with_activity``'s ``gap_since``. Built per programme (an organisation has
    few) so that the date arithmetic is the same on every database.
    """
    from django.db.models import BooleanField, ExpressionWrapper, Value

    per_programme = [
        Q(
            programme_id=programme.pk,
            gap_since__lte=today - datetime.timedelta(days=programme.inactivity_days),
        )
        for programme in programmes
    ]
    if not per_programme:
        return Value(False, output_field=BooleanField())
    due = per_programme[0]
    for condition in per_programme[1:]:
        due |= condition
    return ExpressionWrapper(
        Q(stage__in=Relationship.OPEN_STAGES) & due, output_field=BooleanField()
    )


def with_agreement_status(relationships: QuerySet[Relationship]) -> QuerySet[Relationship]:
    """Annotate the latest agreement's version and state, and the latest signed version.

    ``agreement_state`` is "draft", "sent" or "signed" (None with no agreement).
    """
    from django.db.models import Case, CharField, OuterRef, Subquery, Value, When

    from .models import Agreement

    latest = Agreement.objects.filter(relationship=OuterRef("pk")).order_by("-version")
    state = Case(
        When(mentor_signed_at__isnull=False, mentee_signed_at__isnull=False, then=Value("signed")),
        When(sent_at__isnull=False, then=Value("sent")),
        default=Value("draft"),
        output_field=CharField(),
    )
    signed = latest.filter(mentor_signed_at__isnull=False, mentee_signed_at__isnull=False)
    return relationships.annotate(
        agreement_version=Subquery(latest.values("version")[:1]),
        agreement_state=Subquery(latest.annotate(state=state).values("state")[:1]),
        signed_version=Subquery(signed.values("version")[:1]),
    )
