"""The hybrid model: each waiting mentee is offered a shortlist and picks a mentor from it.

An admin or lead nurse offers a shortlist: the programme's top ``shortlist_size``
mentors from the pool, kept with their rank, score and reasons, open for
``shortlist_days``. The mentee picks one (ending in :func:`pairing.make_pair`). A
mentee nobody fits, one with no account to sign in with, or one who lets the
shortlist expire is matched directly by an admin or lead nurse.

Expiry claims each shortlist with a conditional UPDATE in a short transaction
before its e-mail goes, so a retried or doubled task tells the lead nurses once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from mentoring.models import Mentee, Mentor, Relationship
from mentoring.services import with_caseload
from programmes import audit
from programmes.models import AuditEvent, Criterion, Membership, Organisation, Programme, Role

from ..models import Shortlist, ShortlistEntry
from . import pairing, pool
from .choice import absolute_url, claim_row, lock_mentee

# Sections of the admin's page: who needs a shortlist, who is choosing, who to match directly.
NEEDS_OFFER = "offer"
CHOOSING = "choosing"
MATCH_DIRECTLY = "direct"


class ShortlistRefused(ValidationError):
    """The shortlist cannot be offered or chosen from now; the message says why."""


def _score(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# --- Who is where -----------------------------------------------------------------------


def with_latest_shortlist(mentees: QuerySet[Mentee]) -> QuerySet[Mentee]:
    """Annotate each mentee with their newest shortlist's pk, status and closing date."""
    latest = Shortlist.objects.filter(mentee=OuterRef("pk")).order_by("-created_at", "-pk")
    return mentees.annotate(
        shortlist_pk=Subquery(latest.values("pk")[:1]),
        shortlist_status=Subquery(latest.values("status")[:1]),
        shortlist_expires_on=Subquery(latest.values("expires_on")[:1]),
    )


def waiting_hybrid_mentees(mentees: QuerySet[Mentee]) -> QuerySet[Mentee]:
    """Waiting mentees of hybrid programmes among ``mentees``, with their newest shortlist."""
    return with_latest_shortlist(
        mentees.filter(programme__matching_model=Programme.MatchingModel.HYBRID).waiting()
    )


def section_filter(section: str, today: datetime.date) -> Q:
    """Which annotated mentees (see :func:`with_latest_shortlist`) are in a section.

    A shortlist still marked open past its closing date counts as expired: the daily
    job marks it so, and nobody should wait for that.
    """
    has_account = Q(user__isnull=False)
    still_open = Q(shortlist_status=Shortlist.Status.OPEN, shortlist_expires_on__gte=today)
    if section == NEEDS_OFFER:
        return has_account & (
            Q(shortlist_status__isnull=True)
            | Q(shortlist_status__in=[Shortlist.Status.CHOSEN, Shortlist.Status.WITHDRAWN])
        )
    if section == CHOOSING:
        return has_account & still_open
    return (
        ~has_account
        | Q(shortlist_status__in=[Shortlist.Status.EXPIRED, Shortlist.Status.EMPTY])
        | Q(shortlist_status=Shortlist.Status.OPEN, shortlist_expires_on__lt=today)
    )


def status_label(mentee: Mentee, today: datetime.date) -> str:
    """The shortlist status in words, for a mentee annotated by :func:`with_latest_shortlist`."""
    if mentee.user_id is None:
        return "No account: match directly"
    status = mentee.shortlist_status
    if status == Shortlist.Status.OPEN:
        if mentee.shortlist_expires_on < today:
            return "Expired"
        return f"Open until {mentee.shortlist_expires_on:%-d %B %Y}"
    if status == Shortlist.Status.EXPIRED:
        return "Expired"
    if status == Shortlist.Status.EMPTY:
        return "Empty: no mentor fits"
    if status == Shortlist.Status.CHOSEN:
        return "Chosen, then ended"
    return "None"


# --- Offering ---------------------------------------------------------------------------


def offer_shortlist(
    mentee: Mentee,
    *,
    actor,
    path: str = "",
    mentors: Sequence[Mentor] | None = None,
    today: datetime.date | None = None,
) -> Shortlist:
    """Offer the mentee their best mentors to choose from, and e-mail them a link.

    When no mentor fits, the shortlist is kept as empty (no e-mail), so the mentee
    shows as one to match directly. ``mentors`` (from ``pool.programme_mentors``)
    lets a caller offering many shortlists load the programme's mentors once.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        lock_mentee(mentee.pk)
        mentee = pool.load_mentees(
            Mentee.objects.filter(pk=mentee.pk).select_related("programme__organisation")
        )[0]
        programme = mentee.programme
        if programme.matching_model != Programme.MatchingModel.HYBRID:
            raise ShortlistRefused(f"{programme.name} does not offer shortlists.")
        if mentee.status not in pairing.WAITING:
            raise ShortlistRefused(
                f"{mentee.full_name} is {mentee.get_status_display().lower()}, "
                "not waiting for a match."
            )
        if mentee.user_id is None:
            raise ShortlistRefused(
                f"{mentee.full_name} has no account, so cannot sign in to choose. "
                "Match them directly."
            )
        current = Shortlist.objects.filter(mentee=mentee, status=Shortlist.Status.OPEN).first()
        if current is not None:
            raise ShortlistRefused(
                f"{mentee.full_name} already has a shortlist, open until "
                f"{current.expires_on:%-d %B %Y}."
            )
        ranked = pool.suggest(mentee, mentors=mentors, limit=programme.shortlist_size).ranked
        try:
            with transaction.atomic():
                shortlist = Shortlist.objects.create(
                    programme=programme,
                    mentee=mentee,
                    status=Shortlist.Status.OPEN if ranked else Shortlist.Status.EMPTY,
                    expires_on=today + datetime.timedelta(days=programme.shortlist_days),
                    offered_by=actor if getattr(actor, "is_authenticated", False) else None,
                    closed_at=None if ranked else timezone.now(),
                )
        except IntegrityError:
            raise ShortlistRefused(f"{mentee.full_name} already has a shortlist.") from None
        ShortlistEntry.objects.bulk_create(
            ShortlistEntry(
                shortlist=shortlist,
                mentor=r.mentor,
                rank=rank,
                score=_score(r.score),
                reasons=list(r.reasons),
                cross_trust=r.cross_trust,
            )
            for rank, r in enumerate(ranked, start=1)
        )
        audit.record(
            organisation=programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=shortlist,
            label=f"Shortlist for {mentee.full_name}: {len(ranked)} mentors",
            fields=["status", "expires_on", "entries"],
            path=path,
        )
        if ranked:
            from ..tasks import send_shortlist_email

            organisation_id = programme.organisation_id
            transaction.on_commit(lambda: send_shortlist_email.delay(organisation_id, shortlist.pk))
    return shortlist


@dataclass(frozen=True)
class Offered:
    """What offering many shortlists did."""

    open: int = 0
    empty: int = 0
    skipped: int = 0


def offer_shortlists(mentee_ids: Iterable[int], *, actor, path: str = "") -> Offered:
    """Offer a shortlist to each of these mentees who still needs one.

    Each mentee is offered in their own transaction; one who has been matched or
    offered meanwhile is skipped. The programme's mentors are loaded once: offering
    does not take a place, so their caseload does not change between mentees.
    """
    mentees = list(
        Mentee.objects.filter(pk__in=list(mentee_ids))
        .select_related("programme")
        .order_by("priority", "identified_at", "pk")
    )
    mentors_of: dict[int, list[Mentor]] = {}
    counts = {"open": 0, "empty": 0, "skipped": 0}
    for mentee in mentees:
        if mentee.programme_id not in mentors_of:
            mentors_of[mentee.programme_id] = list(pool.programme_mentors(mentee.programme))
        try:
            shortlist = offer_shortlist(
                mentee, actor=actor, path=path, mentors=mentors_of[mentee.programme_id]
            )
        except ShortlistRefused:
            counts["skipped"] += 1
        else:
            counts["open" if shortlist.status == Shortlist.Status.OPEN else "empty"] += 1
    return Offered(**counts)


def shortlist_email(shortlist: Shortlist) -> tuple[str, str]:
    """Subject and text inviting the mentee to choose from their shortlist."""
    programme = shortlist.programme
    link = absolute_url(reverse("matching:my_shortlist", args=[programme.organisation.slug]))
    text = "\n".join(
        [
            f"Dear {shortlist.mentee.full_name},",
            "",
            f"We have picked the mentors who suit you best in {programme.name}. Sign in to read "
            f"their profiles and choose one by {shortlist.expires_on:%-d %B %Y}: {link}",
            "",
            "If you do not choose by then, the programme team will match you with a mentor.",
        ]
    )
    return f"Choose your mentor in {programme.name}", text


# --- The mentee's side ----------------------------------------------------------------


def open_shortlist(user, organisation: Organisation, today: datetime.date | None = None):
    """The person's open shortlist in this organisation (one at most per mentee record)."""
    today = today or timezone.localdate()
    return (
        Shortlist.objects.filter(
            programme__organisation=organisation,
            mentee__user=user,
            status=Shortlist.Status.OPEN,
            expires_on__gte=today,
        )
        .select_related("mentee", "programme")
        .order_by("expires_on", "pk")
        .first()
    )


@dataclass(frozen=True)
class Choice:
    """One mentor on a shortlist, as the mentee sees it."""

    entry: ShortlistEntry
    criteria: tuple[str, ...]
    places_left: int

    @property
    def mentor(self) -> Mentor:
        return self.entry.mentor


def choices(shortlist: Shortlist) -> list[Choice]:
    """The shortlist's mentors in rank order, with their places left now (fixed queries)."""
    entries = list(shortlist.entries.order_by("rank"))
    mentors = (
        with_caseload(Mentor.objects.filter(pk__in=[e.mentor_id for e in entries]))
        .select_related("user", "trust", "programme")
        .prefetch_related(
            Prefetch("criteria_offered", queryset=Criterion.objects.order_by("position", "label"))
        )
    )
    by_pk = {m.pk: m for m in mentors}
    result = []
    for entry in entries:
        mentor = by_pk[entry.mentor_id]
        entry.mentor = mentor
        result.append(
            Choice(
                entry=entry,
                criteria=tuple(c.label for c in mentor.criteria_offered.all()),
                places_left=pool.places_left(mentor),
            )
        )
    return result


def choose(entry: ShortlistEntry, *, actor, path: str = "") -> Relationship:
    """The mentee picks a mentor from their open shortlist: the pair is made.

    If the mentor has no place left now, nothing changes and the mentee may pick
    another.
    """
    today = timezone.localdate()
    with transaction.atomic():
        shortlist = entry.shortlist
        lock_mentee(shortlist.mentee_id)
        shortlist = (
            Shortlist.objects.select_for_update(of=("self",))
            .select_related("programme__organisation")
            .get(pk=shortlist.pk)
        )
        if shortlist.status != Shortlist.Status.OPEN or shortlist.expires_on < today:
            raise ShortlistRefused(
                "This shortlist is closed. Your programme team will match you with a mentor."
            )
        mentee = pool.load_mentees(Mentee.objects.filter(pk=shortlist.mentee_id))[0]
        mentor = (
            with_caseload(Mentor.objects.filter(pk=entry.mentor_id))
            .select_related("user", "trust", "programme")
            .get()
        )
        if pool.blocked_reason(mentee, mentor) is not None:
            raise ShortlistRefused(
                f"{mentor.user.full_name} cannot take on a new mentee now. "
                "Choose another mentor from your shortlist."
            )
        try:
            relationship = pairing.make_pair(
                mentee,
                mentor,
                actor=actor,
                route=Relationship.Route.SHORTLIST,
                score=entry.score,
                cross_trust=entry.cross_trust,
                path=path,
            )
        except pairing.PairingRefused as refused:
            raise ShortlistRefused(" ".join(refused.messages)) from None
        # make_pair closes every open shortlist of the mentee; this one was chosen from.
        shortlist.status = Shortlist.Status.CHOSEN
        shortlist.chosen = mentor
        shortlist.closed_at = timezone.now()
        shortlist.save(update_fields=["status", "chosen", "closed_at"])
        audit.record(
            organisation=shortlist.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=shortlist,
            label=f"Mentor chosen from the shortlist: {mentor.user.full_name}",
            fields=["status", "chosen", "closed_at"],
            path=path,
        )
    return relationship


# --- Expiry -----------------------------------------------------------------------------


def due_to_expire(organisation: Organisation, today: datetime.date) -> list[int]:
    return list(
        Shortlist.objects.filter(
            programme__organisation=organisation,
            status=Shortlist.Status.OPEN,
            expires_on__lt=today,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _people_to_tell(organisation: Organisation, mentee: Mentee) -> list[str]:
    """The lead nurses of the mentee's trust, or the organisation's admins if it has none."""
    leads = Membership.objects.filter(
        organisation=organisation, role=Role.LEAD_NURSE, trusts=mentee.trust_id
    )
    emails = sorted(set(leads.values_list("user__email", flat=True)))
    if not emails:
        admins = Membership.objects.filter(organisation=organisation, role=Role.ADMIN)
        emails = sorted(set(admins.values_list("user__email", flat=True)))
    return emails


def _expired_email(shortlist: Shortlist) -> tuple[str, str]:
    mentee, programme = shortlist.mentee, shortlist.programme
    link = absolute_url(
        reverse("matching:suggestions", args=[programme.organisation.slug, mentee.pk])
    )
    text = "\n".join(
        [
            f"{mentee.full_name} ({mentee.trust.name}) did not choose a mentor from their "
            f"shortlist in {programme.name} by {shortlist.expires_on:%-d %B %Y}.",
            "",
            f"Please match them directly: {link}",
        ]
    )
    return f"Match {mentee.full_name} directly", text


def expire_shortlists(organisation: Organisation, today: datetime.date | None = None) -> int:
    """Close each open shortlist past its date and tell whoever matches directly, once."""
    today = today or timezone.localdate()
    sent = 0
    for pk in due_to_expire(organisation, today):
        with transaction.atomic():
            claimed = claim_row(
                Shortlist,
                pk,
                where={"status": Shortlist.Status.OPEN, "expires_on__lt": today},
                changes={"status": Shortlist.Status.EXPIRED, "closed_at": timezone.now()},
            )
            if not claimed:
                continue
            shortlist = Shortlist.objects.select_related(
                "mentee__trust", "programme__organisation"
            ).get(pk=pk)
            audit.record(
                organisation=organisation,
                actor=None,
                action=AuditEvent.Action.CHANGE,
                obj=shortlist,
                label=f"Shortlist for {shortlist.mentee.full_name} expired",
                fields=["status", "closed_at"],
            )
            recipients = _people_to_tell(organisation, shortlist.mentee)
            if recipients:
                subject, text = _expired_email(shortlist)
                send_mail(subject, text, None, recipients)
                sent += 1
    return sent
