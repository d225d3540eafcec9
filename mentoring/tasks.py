"""Mentoring's background jobs: a gentle nudge to mentors of relationships gone quiet.

A relationship goes quiet when no session has been logged for the programme's
inactivity days, counting from the last session (or the start, with none yet). The
mentor is nudged once for each such gap: the nudge row is unique per relationship and
gap start, and is claimed with a conditional UPDATE before the e-mail goes, so a
second run, a retry or a second worker sends nothing more. A new session starts a
new gap, which may earn a nudge of its own later.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from config.links import absolute_url
from programmes.claims import claim_row
from programmes.models import Organisation

from . import services
from .models import InactivityNudge, Relationship


def quiet_relationships(organisation: Organisation, today: datetime.date):
    """Open relationships whose gap has reached the inactivity days and is not yet nudged.

    Runs inside the organisation's scope; the relationships carry ``gap_since``.
    """
    programmes = list(organisation.programmes.all())
    already_sent = InactivityNudge.objects.filter(
        relationship=OuterRef("pk"), gap_since=OuterRef("gap_since"), sent_at__isnull=False
    )
    return (
        services.with_activity(
            Relationship.objects.filter(
                programme__organisation=organisation, stage__in=Relationship.OPEN_STAGES
            )
        )
        .annotate(
            needs_attention=services.needs_attention_condition(programmes, today),
            nudged=Exists(already_sent),
        )
        .filter(needs_attention=True, nudged=False)
        .select_related("programme__organisation", "mentor__user", "mentee")
        .order_by("pk")
    )


def claim_nudge(nudge_pk: int, now: datetime.datetime) -> bool:
    """Mark the nudge sent if nobody has; True if this call did.

    A plain one-table ``UPDATE … WHERE id = … AND sent_at IS NULL``: outside the scope's
    join, PostgreSQL re-checks the condition on the newest row once a concurrent claim
    commits, so of two racing workers only one wins.
    """
    return claim_row(InactivityNudge, nudge_pk, sent_at__isnull=True, changes={"sent_at": now})


def nudge_text(relationship: Relationship, days: int) -> tuple[str, str]:
    mentor, mentee, programme = relationship.mentor, relationship.mentee, relationship.programme
    path = reverse(
        "mentoring:relationship_detail", args=[programme.organisation.slug, relationship.pk]
    )
    link = absolute_url(path)
    subject = f"A gentle reminder about mentoring {mentee.full_name}"
    text = "\n".join(
        [
            f"Dear {mentor.user.get_short_name()},",
            "",
            f"We have not seen a session logged with {mentee.full_name} for {days} days.",
            "Mentoring often goes quiet for good reasons: leave, a busy service, or simply "
            "a pause that suits you both. If you have met, please log the session so the "
            "programme can count it. If not, now may be a good time to get in touch.",
            "",
            f"The relationship's page: {link}",
            "",
            f"Thank you for all you give to {programme.name}.",
        ]
    )
    return subject, text


def nudge_organisation(organisation: Organisation, today: datetime.date | None = None) -> int:
    """Nudge the mentors of this organisation's quiet relationships; returns e-mails sent."""
    from django.core.mail import send_mail

    today = today or timezone.localdate()
    sent = 0
    for relationship in quiet_relationships(organisation, today):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    nudge, _ = InactivityNudge.objects.get_or_create(
                        relationship=relationship, gap_since=relationship.gap_since
                    )
            except IntegrityError:
                continue  # another worker created it a moment ago, and sends it
            if not claim_nudge(nudge.pk, timezone.now()):
                continue
            subject, text = nudge_text(relationship, (today - relationship.gap_since).days)
            # Inside the transaction: if the mail server fails, the claim is undone
            # and the next run tries again.
            send_mail(subject, text, None, [relationship.mentor.user.email])
            sent += 1
    return sent


@shared_task(bind=True, max_retries=3, default_retry_delay=600)
def nudge_inactive_mentors(self) -> int:
    """Daily: in each organisation, nudge mentors once per gap without a session."""
    sent = 0
    failed: OSError | None = None
    for organisation in Organisation.objects.order_by("pk"):
        with scope(organisation=organisation):
            try:
                sent += nudge_organisation(organisation)
            except OSError as error:  # the mail server: the other organisations still run
                failed = error
    if failed is not None:
        raise self.retry(exc=failed)
    return sent
