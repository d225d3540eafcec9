"""The capability self-assessment: the framework, ratings, priority domains and the
line manager's single-use link.

The self-assessment belongs to the mentee: they rate each capability as often as
they like (each time is a new ``SelfAssessment``), and their mentor reads it. The
mentee, the mentor and the mentee's line manager each mark the capabilities they
want the mentoring conversations to focus on. Every change here is audited with
field names only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scopes_disabled

from config.links import absolute_url
from programmes import audit
from programmes.models import AuditEvent, Programme
from programmes.tokens import hash_token, new_token

from .frameworks import add_default_framework, in_reading_order, reading_key
from .models import (
    Capability,
    CapabilityRating,
    Level,
    LineManagerLink,
    Mentee,
    PriorityDomain,
    Relationship,
    SelfAssessment,
)

LINK_DAYS = 21
MarkedBy = PriorityDomain.MarkedBy
# A mentee still waiting for a mentor may take the assessment "at the start".
WAITING = (Mentee.Status.IDENTIFIED, Mentee.Status.AWAITING_MATCH)
# The mentor of one of these reads the mentee's assessments; a declined or rematched
# match never gave, or no longer gives, that right.
MENTOR_READS_IN = (*Relationship.OPEN_STAGES, Relationship.Stage.CLOSED)


class CapabilityInUse(Exception):
    """A capability a mentee has rated cannot be removed: the ratings would lose it."""


class LastCapability(Exception):
    """A framework keeps at least one capability."""


class NoLineManagerEmail(ValidationError):
    """The mentee's record has no line manager e-mail address to send a link to."""


class LinkProblem(Exception):
    """Why a line manager link cannot be used: "wrong", "expired", "used" or "ended"."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


# --- The framework -------------------------------------------------------------------


def framework_of(programme: Programme) -> list[Capability]:
    """The programme's capabilities in reading order.

    A programme made before frameworks existed gets the default one the first time
    it is needed.
    """
    capabilities = list(programme.capabilities.all())
    if not capabilities:
        add_default_framework(programme)
        capabilities = list(programme.capabilities.all())
    return in_reading_order(capabilities)


def _unique_code(programme: Programme, title: str) -> str:
    base = slugify(title)[:34].strip("-") or "capability"
    taken = set(programme.capabilities.values_list("code", flat=True))
    code, number = base, 2
    while code in taken:
        code = f"{base}-{number}"
        number += 1
    return code


@transaction.atomic
def add_capability(
    programme: Programme, *, title: str, pillar: str, position: int, actor, path: str = ""
) -> Capability:
    capability = Capability.objects.create(
        programme=programme,
        code=_unique_code(programme, title),
        title=title,
        pillar=pillar,
        position=position,
    )
    audit.record(
        organisation=programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=capability,
        label=f"Capability {capability.code}",
        fields=["title", "pillar", "position"],
        path=path,
    )
    return capability


@transaction.atomic
def change_capability(capability: Capability, *, fields: Iterable[str], actor, path: str = ""):
    """Save a capability the admin changed; ``fields`` names what changed."""
    fields = [name for name in fields if name in ("title", "pillar", "position")]
    if not fields:
        return
    capability.save(update_fields=fields)
    audit.record(
        organisation=capability.programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=capability,
        label=f"Capability {capability.code}",
        fields=fields,
        path=path,
    )


def is_rated(capability: Capability) -> bool:
    return CapabilityRating.objects.filter(capability=capability).exists()


@transaction.atomic
def remove_capability(capability: Capability, *, actor, path: str = "") -> None:
    """Remove a capability nobody has rated; priority marks on it go with it."""
    programme = Programme.objects.select_for_update().get(pk=capability.programme_id)
    if is_rated(capability):
        raise CapabilityInUse(capability.title)
    if programme.capabilities.count() <= 1:
        raise LastCapability(capability.title)
    audit.record(
        organisation=programme.organisation,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        obj=capability,
        label=f"Capability {capability.code}",
        path=path,
    )
    capability.delete()


# --- Who may do what ----------------------------------------------------------------


def open_mentor_user_ids(mentee: Mentee) -> set[int]:
    """The accounts of the mentee's mentors in an open relationship (usually one)."""
    return set(
        mentee.relationships.filter(stage__in=Relationship.OPEN_STAGES).values_list(
            "mentor__user_id", flat=True
        )
    )


def mentee_takes_changes(mentee: Mentee, open_mentor_ids: set[int]) -> bool:
    """Whether the self-assessment is still in use: before a match or while one is open.

    Once the mentoring has ended (or the mentee withdrew) it is kept read-only.
    """
    return mentee.status in WAITING or bool(open_mentor_ids)


# --- Assessments and priorities -----------------------------------------------------


@transaction.atomic
def record_assessment(
    mentee: Mentee,
    levels: dict[int, int],
    *,
    actor,
    path: str = "",
    on: datetime.date | None = None,
) -> SelfAssessment:
    """Store one self-assessment: a level for each capability, taken today."""
    assessment = SelfAssessment.objects.create(mentee=mentee, taken_on=on or timezone.localdate())
    CapabilityRating.objects.bulk_create(
        CapabilityRating(assessment=assessment, capability_id=capability_id, level=level)
        for capability_id, level in levels.items()
    )
    audit.record(
        organisation=mentee.programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=assessment,
        label="Capability self-assessment",
        fields=["taken_on", "ratings"],
        path=path,
    )
    return assessment


@transaction.atomic
def set_priorities(
    mentee: Mentee, marked_by: str, capability_ids: Iterable[int], *, actor, path: str = ""
) -> bool:
    """Make ``capability_ids`` the priority domains one side has marked; True if changed."""
    wanted = set(capability_ids)
    marks = PriorityDomain.objects.filter(mentee=mentee, marked_by=marked_by)
    current = set(marks.values_list("capability_id", flat=True))
    if wanted == current:
        return False
    marks.filter(capability_id__in=current - wanted).delete()
    PriorityDomain.objects.bulk_create(
        [
            PriorityDomain(mentee=mentee, capability_id=capability_id, marked_by=marked_by)
            for capability_id in wanted - current
        ],
        ignore_conflicts=True,
    )
    audit.record(
        organisation=mentee.programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        object_type="priority domains",
        object_id=mentee.pk,
        label=f"Priority domains marked by the {MarkedBy(marked_by).label.lower()}",
        fields=["priority_domains"],
        path=path,
    )
    return True


def _marked_by_in_order(values: Iterable[str]) -> list[tuple[str, str]]:
    """(value, label) of each side, mentee first, then mentor, then line manager."""
    order = {value: index for index, value in enumerate(MarkedBy.values)}
    return [(value, MarkedBy(value).label) for value in sorted(set(values), key=order.get)]


def priorities_by_capability(mentee: Mentee) -> dict[int, list[tuple[str, str]]]:
    """For each marked capability, who marked it, as (value, label) pairs."""
    marks: dict[int, list[str]] = {}
    for capability_id, marked_by in PriorityDomain.objects.filter(mentee=mentee).values_list(
        "capability_id", "marked_by"
    ):
        marks.setdefault(capability_id, []).append(marked_by)
    return {capability_id: _marked_by_in_order(sides) for capability_id, sides in marks.items()}


@dataclass
class ProgressRow:
    """One capability's first and latest level, for the chart and its table."""

    capability: Capability
    first: int | None
    latest: int | None
    marked_by: list[tuple[str, str]] = field(default_factory=list)

    @property
    def first_label(self) -> str:
        return Level(self.first).label if self.first else "Not rated"

    @property
    def latest_label(self) -> str:
        return Level(self.latest).label if self.latest else "Not rated"

    @property
    def change(self) -> int | None:
        if self.first is None or self.latest is None:
            return None
        return self.latest - self.first

    @property
    def change_label(self) -> str:
        change = self.change
        if change is None:
            return "Not known"
        if change == 0:
            return "No change"
        steps = f"{abs(change)} level{'s' if abs(change) > 1 else ''}"
        return f"Up {steps}" if change > 0 else f"Down {steps}"

    # Bar lengths on the chart, whose scale runs 100 units a level.
    @property
    def first_width(self) -> int:
        return (self.first or 0) * 100

    @property
    def latest_width(self) -> int:
        return (self.latest or 0) * 100


def assessments_of(mentee: Mentee) -> list[SelfAssessment]:
    """Every assessment, oldest first, with its ratings (two queries, however many)."""
    return list(mentee.self_assessments.order_by("taken_on", "pk").prefetch_related("ratings"))


def progress(
    capabilities: list[Capability],
    assessments: list[SelfAssessment],
    marks: dict[int, list[str]],
) -> list[ProgressRow]:
    """First and latest level of each capability (the same when there is one assessment)."""
    first = {r.capability_id: r.level for r in assessments[0].ratings.all()} if assessments else {}
    latest = (
        {r.capability_id: r.level for r in assessments[-1].ratings.all()} if assessments else {}
    )
    return [
        ProgressRow(
            capability=capability,
            first=first.get(capability.pk),
            latest=latest.get(capability.pk),
            marked_by=marks.get(capability.pk, []),
        )
        for capability in capabilities
    ]


def summary(mentee: Mentee) -> dict:
    """How many assessments, the last date, and the priority domains, in two queries."""
    totals = mentee.self_assessments.aggregate(count=Count("pk"), last_on=Max("taken_on"))
    marks: dict[int, tuple[Capability, list[str]]] = {}
    for mark in PriorityDomain.objects.filter(mentee=mentee).select_related("capability"):
        marks.setdefault(mark.capability_id, (mark.capability, []))[1].append(mark.marked_by)
    priorities = [
        {"capability": capability, "marked_by": _marked_by_in_order(sides)}
        for capability, sides in sorted(marks.values(), key=lambda entry: reading_key(entry[0]))
    ]
    return {"count": totals["count"], "last_on": totals["last_on"], "priorities": priorities}


# --- The line manager's link --------------------------------------------------------


def latest_link(mentee: Mentee) -> LineManagerLink | None:
    return mentee.line_manager_links.order_by("-created_at", "-pk").first()


@transaction.atomic
def ask_line_manager(
    mentee: Mentee,
    *,
    actor,
    path: str = "",
    now: datetime.datetime | None = None,
) -> LineManagerLink:
    """E-mail the line manager a single-use link to mark their priority domains.

    A new link replaces any earlier one still waiting: that one expires now.
    """
    if not mentee.line_manager_email:
        raise NoLineManagerEmail(
            f"There is no line manager e-mail address on {mentee.full_name}'s record. "
            "Ask the lead nurse to add it, then try again."
        )
    now = now or timezone.now()
    LineManagerLink.objects.filter(mentee=mentee, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    token = new_token()
    link = LineManagerLink.objects.create(
        mentee=mentee,
        token_hash=hash_token(token),
        expires_at=now + datetime.timedelta(days=LINK_DAYS),
    )
    audit.record(
        organisation=mentee.programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=link,
        label="Line manager asked for priority domains",
        fields=["line_manager_email"],
        path=path,
    )
    url = absolute_url(reverse("line_manager_priorities", args=[token]))
    message = _line_manager_message(mentee, actor, url, link.expires_at)
    recipient = mentee.line_manager_email
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Mentoring priorities for {mentee.full_name}",
            message=message,
            from_email=None,
            recipient_list=[recipient],
        )
    )
    return link


def _line_manager_message(mentee: Mentee, actor, url: str, expires_at) -> str:
    sender = getattr(actor, "full_name", "") or getattr(actor, "email", "") or "The mentoring team"
    greeting = mentee.line_manager_name or "colleague"
    until = timezone.localtime(expires_at).strftime("%-d %B %Y")
    return (
        f"Dear {greeting},\n\n"
        f"{sender} would like your view on what {mentee.full_name}'s mentoring in "
        f"{mentee.programme.name} should focus on.\n\n"
        "Please open this link and tick the capabilities you think matter most for "
        f"them at the moment. It takes a few minutes and you do not need an account:\n{url}\n\n"
        f"The link works once, until {until}.\n\n"
        "If you were not expecting this e-mail, you can ignore it.\n"
    )


def find_link(token: str) -> LineManagerLink:
    """The link a token names, with its mentee and organisation; ``LinkProblem`` if none.

    Only the token's hash is stored, so a link is found by hashing what was typed. It
    is read before any organisation is known: the token, not a membership, lets this
    one row be found.
    """
    if not token or len(token) > 100:
        raise LinkProblem("wrong")
    with scopes_disabled():
        link = (
            LineManagerLink.objects.select_related("mentee__programme__organisation")
            .filter(token_hash=hash_token(token))
            .first()
        )
    if link is None:
        raise LinkProblem("wrong")
    return link


def link_problem(link: LineManagerLink, now: datetime.datetime | None = None) -> str | None:
    """Why the link cannot be used now, or None. Run inside the organisation's scope."""
    now = now or timezone.now()
    if link.used_at:
        return "used"
    if link.expires_at <= now:
        return "expired"
    if not mentee_takes_changes(link.mentee, open_mentor_user_ids(link.mentee)):
        return "ended"
    return None


@transaction.atomic
def mark_by_line_manager(
    link: LineManagerLink,
    capability_ids: Iterable[int],
    *,
    path: str = "",
    now: datetime.datetime | None = None,
) -> None:
    """Store the line manager's priority domains and use the link up."""
    now = now or timezone.now()
    locked = (
        LineManagerLink.objects.select_for_update(of=("self",))
        .select_related("mentee__programme__organisation")
        .get(pk=link.pk)
    )
    problem = link_problem(locked, now)
    if problem:
        raise LinkProblem(problem)
    set_priorities(locked.mentee, MarkedBy.LINE_MANAGER, capability_ids, actor=None, path=path)
    locked.used_at = now
    locked.save(update_fields=["used_at"])
    audit.record(
        organisation=locked.mentee.programme.organisation,
        actor=None,
        action=AuditEvent.Action.CHANGE,
        obj=locked,
        label="Line manager link used",
        fields=["used_at"],
        path=path,
    )
