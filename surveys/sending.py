"""Sending survey invitations and reminders, each exactly once.

Every e-mail is a ``SurveySend`` row, unique per (invitation, number). Before its
e-mail goes, a worker claims the row with a conditional UPDATE on that one table;
only the worker whose UPDATE changed the row sends, so two beats or two workers
running at once send nothing twice. Once the mail server has the message the row
is marked sent and never goes again.

A worker that dies holding a claim leaves the row claimed but unsent; after the
lease (15 minutes) another run claims it and sends it. The one case this cannot
tell apart is a worker that dies in the instant after the mail server accepted the
message and before the row was marked: that e-mail goes a second time. Sending
keeps that instant as short as it can (nothing but the UPDATE comes between).

Every e-mail carries a new token of its own, so no token is ever kept to be sent
again; the link dies with the invitation (completed or expired).
"""

from __future__ import annotations

import datetime
import logging

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format

from mentoring.models import Mentee
from programmes.audit import record
from programmes.claims import claim_row
from programmes.models import AuditEvent
from programmes.tokens import hash_token, new_token

from .models import Audience, SurveyInvitation, SurveySend, SurveyToken
from .respond import link_url
from .scheduling import NO_SURVEYS_STAGES

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died; the send may be claimed again.
# Far longer than one e-mail can take (EMAIL_TIMEOUT bounds each attempt).
LEASE = datetime.timedelta(minutes=15)
# Sends handled per run; the next run (every 5 minutes) takes the rest.
BATCH = 500
# Resends an admin may ask for beyond the rule's reminders.
MANUAL_RESENDS = 3


def survey_link(token: str) -> str:
    """The absolute address of the respondent's page for this token (``/s/<token>/``)."""
    return link_url(token)


# --- Claiming -------------------------------------------------------------------------


def _claimable(now: datetime.datetime) -> Q:
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE)


def due_sends(now: datetime.datetime):
    """Unsent sends due by ``now`` of open invitations, oldest first (current scope).

    Nothing more goes to a mentee who has withdrawn, nor about a relationship that was
    declined or replaced by a rematch (the new relationship has its own waves).
    """
    today = timezone.localdate(now)
    return (
        SurveySend.objects.filter(
            sent_at__isnull=True,
            due_at__lte=now,
            invitation__completed_at__isnull=True,
            invitation__expires_on__gte=today,
        )
        .filter(_claimable(now))
        .exclude(invitation__mentee__status=Mentee.Status.WITHDRAWN)
        .exclude(invitation__relationship__mentee__status=Mentee.Status.WITHDRAWN)
        .exclude(invitation__relationship__stage__in=NO_SURVEYS_STAGES)
        .order_by("due_at", "pk")
    )


def claim(send_id: int, now: datetime.datetime) -> bool:
    """Claim one send for this worker; True only for the one caller that changed the row.

    A plain ``UPDATE … WHERE id = … AND sent_at IS NULL AND (claimed_at IS NULL OR
    claimed_at < lease)`` on the one table, outside the organisation scope (whose join
    would make it ``WHERE id IN (SELECT …)``, which PostgreSQL does not re-check
    against a concurrent claim).
    """
    return claim_row(
        SurveySend, send_id, _claimable(now), sent_at__isnull=True, changes={"claimed_at": now}
    )


def _release(send_id: int, now: datetime.datetime) -> None:
    SurveySend.objects.with_scopes_disabled().filter(
        pk=send_id, claimed_at=now, sent_at__isnull=True
    ).update(claimed_at=None)


def _mark_sent(send_id: int) -> None:
    SurveySend.objects.with_scopes_disabled().filter(pk=send_id, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )


# --- The e-mail -----------------------------------------------------------------------


def recipient_name(invitation: SurveyInvitation) -> str:
    if invitation.audience == Audience.MENTEE and invitation.mentee:
        return invitation.mentee.full_name
    if invitation.audience == Audience.MENTOR and invitation.mentor:
        return invitation.mentor.user.full_name
    if invitation.audience == Audience.LINE_MANAGER and invitation.relationship:
        return invitation.relationship.mentee.line_manager_name
    return ""


def message_for(send: SurveySend, token: str) -> EmailMultiAlternatives:
    """The invitation or reminder e-mail for one send, in plain text and HTML."""
    invitation = send.invitation
    programme = invitation.programme
    survey_name = invitation.version.instrument.name
    reminder = send.number > 0
    context = {
        "name": recipient_name(invitation),
        "programme_name": programme.name,
        "organisation_name": programme.organisation.name,
        "survey_name": survey_name,
        "link": survey_link(token),
        "closes_on": invitation.expires_on,
        "reminder": reminder,
        "audience": invitation.audience,
        "about": (
            invitation.relationship.mentee.full_name
            if invitation.audience == Audience.LINE_MANAGER and invitation.relationship
            else ""
        ),
    }
    subject = (
        f"Reminder: your {survey_name} for {programme.name}"
        if reminder
        else f"Your {survey_name} for {programme.name}"
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("surveys/email/survey.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("surveys/email/survey.html", context), "text/html")
    return message


# --- Sending --------------------------------------------------------------------------


def send_one(send_id: int, now: datetime.datetime) -> bool:
    """Claim, then send one e-mail with a new link; True if this call sent it."""
    if not claim(send_id, now):
        return False
    send = (
        SurveySend.objects.select_related(
            "invitation__programme__organisation",
            "invitation__version__instrument",
            "invitation__mentee",
            "invitation__mentor__user",
            "invitation__relationship__mentee",
        )
        .filter(pk=send_id)
        .first()
    )
    invitation = send.invitation if send else None
    if (
        invitation is None
        or invitation.completed_at is not None
        or invitation.expires_on < timezone.localdate(now)
    ):
        # Answered or closed since it was picked: the claim stays, so it is never sent.
        return False
    token = new_token()
    link = SurveyToken.objects.create(
        invitation=invitation, token_hash=hash_token(token), channel=SurveyToken.Channel.EMAIL
    )
    try:
        message_for(send, token).send()
    except Exception:
        # Not sent: give the row back for the next run, and drop the unused link.
        link.delete()
        _release(send_id, now)
        raise
    _mark_sent(send_id)
    return True


def send_due(now: datetime.datetime | None = None, *, limit: int = BATCH) -> int:
    """Send every due invitation and reminder in the current scope; return how many
    this call sent. Safe to run twice, at once, or again after a worker died."""
    now = now or timezone.now()
    send_ids = list(due_sends(now).values_list("pk", flat=True)[:limit])
    sent = 0
    for send_id in send_ids:
        if send_one(send_id, now):
            sent += 1
    return sent


# --- Resending by hand ----------------------------------------------------------------


class ResendRefused(Exception):
    """The survey cannot be sent again; the message says why."""


def resend_limit(invitation: SurveyInvitation) -> int:
    """The highest send number allowed: the rule's reminders plus three by hand."""
    reminders = invitation.rule.max_reminders if invitation.rule_id and invitation.rule else 0
    return reminders + MANUAL_RESENDS


def resend_refusal(
    invitation: SurveyInvitation,
    *,
    last_number: int | None,
    waiting: int,
    today: datetime.date,
) -> str:
    """Why the survey cannot be sent again now; empty if it can."""
    if invitation.completed_at is not None:
        return "This survey has been answered, so it was not sent again."
    if invitation.expires_on < today:
        closed = date_format(invitation.expires_on, "j F Y")
        return f"This survey closed on {closed}, so it was not sent again."
    if waiting:
        return "An e-mail for this survey is already waiting to go, so it was not sent again."
    next_number = 0 if last_number is None else last_number + 1
    if next_number > resend_limit(invitation):
        return (
            "This survey has been sent as many times as allowed "
            f"({resend_limit(invitation) + 1} e-mails), so it was not sent again."
        )
    return ""


def resend(
    invitation: SurveyInvitation, *, actor, path: str = "", now: datetime.datetime | None = None
) -> SurveySend:
    """Add one more e-mail for the invitation, due now, and send it soon after commit.

    Raises ResendRefused with the reason when it cannot be sent again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        sends = SurveySend.objects.filter(invitation=invitation)
        last_number = sends.aggregate(last=Max("number"))["last"]
        waiting = sends.filter(sent_at__isnull=True, due_at__lte=now).count()
        refusal = resend_refusal(
            invitation, last_number=last_number, waiting=waiting, today=timezone.localdate(now)
        )
        if refusal:
            raise ResendRefused(refusal)
        try:
            with transaction.atomic():
                send = SurveySend.objects.create(
                    invitation=invitation,
                    number=0 if last_number is None else last_number + 1,
                    due_at=now,
                )
        except IntegrityError:
            raise ResendRefused(
                "Someone has just sent this survey again, so it was not sent a second time."
            ) from None
        record(
            organisation=invitation.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=send,
            object_type="survey send",
            label=f"{invitation.wave} survey for {invitation.pseudonym} sent again",
            fields=["number", "due_at"],
            path=path,
        )
        queue_sending(invitation.programme.organisation_id)
    return send


def queue_sending(organisation_id: int) -> None:
    """Send the organisation's due e-mails soon, once this transaction commits."""
    from .tasks import send_organisation_survey_emails

    transaction.on_commit(lambda: send_organisation_survey_emails.delay(organisation_id))
