"""Surveys' background jobs: invitations made as they fall due, and their e-mails sent.

Beat runs ``create_invitations`` hourly and ``send_survey_emails`` every five minutes.
Each fans out one task per organisation, which runs inside that organisation's
scope. Both are safe to run twice or at once: invitations have a unique key, and
every e-mail is claimed before it goes (``surveys.sending``).
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from config.celery_app import OrganisationTask, fan_out
from programmes.models import Programme

from . import scheduling, sending

# Tasks that live beside their service, imported so that workers register them too.
from .qr import send_poster_links  # noqa: F401

# Closed programmes still send their follow-up waves; drafts send nothing.
LIVE = (Programme.Status.ACTIVE, Programme.Status.CLOSED)


@shared_task
def create_invitations() -> int:
    """Hourly: for each organisation with a survey schedule, make the invitations due."""
    return fan_out(
        create_organisation_invitations,
        programmes__status__in=LIVE,
        programmes__schedule_rules__active=True,
    )


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=300)
def create_organisation_invitations(self, organisation) -> int:
    """Make the due invitations of each live programme; their e-mails go on commit."""
    now = timezone.now()
    programmes = (
        organisation.programmes.filter(status__in=LIVE, schedule_rules__active=True)
        .distinct()
        .order_by("pk")
    )
    created = 0
    for programme in programmes:
        programme.organisation = organisation
        created += scheduling.create_due_invitations(programme, now=now)
    if created:
        sending.queue_sending(organisation.pk)
    return created


@shared_task
def send_survey_emails() -> int:
    """Every five minutes: for each organisation with e-mails due, send them."""
    now = timezone.now()
    return fan_out(
        send_organisation_survey_emails,
        programmes__survey_invitations__sends__sent_at__isnull=True,
        programmes__survey_invitations__sends__due_at__lte=now,
        programmes__survey_invitations__completed_at__isnull=True,
        programmes__survey_invitations__expires_on__gte=timezone.localdate(now),
    )


@shared_task(base=OrganisationTask, bind=True, max_retries=5, default_retry_delay=120)
def send_organisation_survey_emails(self, organisation) -> int:
    """Send the organisation's due invitations and reminders, each exactly once."""
    try:
        return sending.send_due(timezone.now())
    except OSError as error:  # the mail server: what went stays sent; retry the rest
        raise self.retry(exc=error) from error
