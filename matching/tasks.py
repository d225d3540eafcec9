"""Matching's background jobs: the e-mails a new or ended pair sends."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from config.celery_app import OrganisationTask, fan_out
from config.links import absolute_url
from mentoring.models import Relationship

from .models import MatchRequest, Shortlist
from .services import choice, shortlists


def _mentor_text(relationship: Relationship) -> str:
    mentee, mentor, programme = relationship.mentee, relationship.mentor, relationship.programme
    lines = [
        f"Dear {mentor.user.get_short_name()},",
        "",
        f"You have been matched with a new mentee in {programme.name}.",
        "",
        f"Mentee: {mentee.full_name}",
        f"Work e-mail: {mentee.email}",
        f"Role: {mentee.role_title or 'not given'}",
        f"Trust: {mentee.trust.name if mentee.trust else 'not given'}",
    ]
    if mentee.line_manager_name or mentee.line_manager_email:
        lines += [
            "",
            "Their line manager:",
            f"Name: {mentee.line_manager_name or 'not given'}",
            f"Work e-mail: {mentee.line_manager_email or 'not given'}",
        ]
    lines += [
        "",
        "Next steps from the mentor map: contact the line manager, then the mentee, to "
        "explain your role and share the paperwork.",
        "",
        "See the relationship: "
        + absolute_url(
            reverse(
                "mentoring:relationship_detail",
                args=[programme.organisation.slug, relationship.pk],
            )
        ),
    ]
    return "\n".join(lines)


def _mentee_text(relationship: Relationship) -> str:
    mentee, mentor, programme = relationship.mentee, relationship.mentor, relationship.programme
    lines = [
        f"Dear {mentee.full_name},",
        "",
        f"You have been matched with a mentor in {programme.name}: {mentor.user.full_name}"
        + (f", {mentor.profession}" if mentor.profession else "")
        + (f", {mentor.trust.name}" if mentor.trust else "")
        + ".",
        "",
        "Your mentor will contact you soon to arrange a first meeting. "
        f"You can write to them at {mentor.user.email}.",
    ]
    return "\n".join(lines)


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=60)
def send_match_emails(self, organisation, relationship_id: int) -> int:
    """Tell the mentor (with the mentee's and line manager's contacts) and the mentee."""
    relationship = (
        Relationship.objects.select_related(
            "mentee__trust", "mentor__user", "mentor__trust", "programme__organisation"
        )
        .filter(pk=relationship_id, programme__organisation=organisation)
        .first()
    )
    if relationship is None or not relationship.is_open:
        return 0
    programme = relationship.programme
    send_mail(
        subject=f"New mentee in {programme.name}: {relationship.mentee.full_name}",
        message=_mentor_text(relationship),
        from_email=None,
        recipient_list=[relationship.mentor.user.email],
    )
    send_mail(
        subject=f"Your mentor in {programme.name}",
        message=_mentee_text(relationship),
        from_email=None,
        recipient_list=[relationship.mentee.email],
    )
    return 2


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=60)
def send_rematch_emails(self, organisation, relationship_id: int) -> int:
    """Tell both people a match has ended early; the mentee will be matched again."""
    relationship = (
        Relationship.objects.select_related("mentee", "mentor__user", "programme")
        .filter(pk=relationship_id, programme__organisation=organisation)
        .first()
    )
    if relationship is None:
        return 0
    programme = relationship.programme
    send_mail(
        subject=f"Your mentoring match in {programme.name} has ended",
        message=(
            f"Dear {relationship.mentor.user.get_short_name()},\n\n"
            f"Your mentoring relationship with {relationship.mentee.full_name} in "
            f"{programme.name} has ended early. Thank you for the time you gave.\n"
        ),
        from_email=None,
        recipient_list=[relationship.mentor.user.email],
    )
    send_mail(
        subject=f"Your mentoring match in {programme.name} has ended",
        message=(
            f"Dear {relationship.mentee.full_name},\n\n"
            f"Your mentoring relationship in {programme.name} has ended early. "
            "The programme team will match you with a new mentor.\n"
        ),
        from_email=None,
        recipient_list=[relationship.mentee.email],
    )
    return 2


# --- Mentee choice and hybrid shortlists ----------------------------------------------


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=60)
def send_request_email(self, organisation, request_id: int) -> int:
    """Tell the mentor a mentee has asked them, with the message and a link to answer."""
    match_request = (
        MatchRequest.objects.select_related(
            "mentee__trust", "mentor__user", "programme__organisation"
        )
        .filter(pk=request_id, programme__organisation=organisation)
        .first()
    )
    if match_request is None or match_request.status != MatchRequest.Status.PENDING:
        return 0
    subject, text = choice.request_email(match_request)
    send_mail(subject, text, None, [match_request.mentor.user.email])
    return 1


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=60)
def send_request_declined_email(self, organisation, request_id: int) -> int:
    """Tell the mentee their request was declined, with the mentor's reason."""
    match_request = (
        MatchRequest.objects.select_related("mentee", "mentor__user", "programme__organisation")
        .filter(pk=request_id, programme__organisation=organisation)
        .first()
    )
    if match_request is None or match_request.status != MatchRequest.Status.DECLINED:
        return 0
    subject, text = choice.declined_email(match_request)
    send_mail(subject, text, None, [match_request.mentee.email])
    return 1


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=60)
def send_shortlist_email(self, organisation, shortlist_id: int) -> int:
    """Invite the mentee to choose a mentor from their new shortlist."""
    shortlist = (
        Shortlist.objects.select_related("mentee", "programme__organisation")
        .filter(pk=shortlist_id, programme__organisation=organisation)
        .first()
    )
    if shortlist is None or shortlist.status != Shortlist.Status.OPEN:
        return 0
    subject, text = shortlists.shortlist_email(shortlist)
    send_mail(subject, text, None, [shortlist.mentee.email])
    return 1


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=60)
def offer_shortlists(self, organisation, mentee_ids: list[int], actor_id: int | None) -> dict:
    """Offer shortlists to many waiting mentees at once, away from the web request."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    offered = shortlists.offer_shortlists(mentee_ids, actor=actor)
    return {"open": offered.open, "empty": offered.empty, "skipped": offered.skipped}


@shared_task
def process_match_requests() -> int:
    """Hourly: for each organisation with requests waiting, remind and return as due."""
    return fan_out(
        process_organisation_match_requests,
        programmes__match_requests__status=MatchRequest.Status.PENDING,
    )


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=300)
def process_organisation_match_requests(self, organisation) -> dict:
    """Remind each mentor once about an unanswered request, then give it back to the mentee.

    Each row is claimed before its e-mail goes, so running twice sends nothing twice.
    """

    try:
        reminded = choice.remind_mentors(organisation)
        returned = choice.return_unanswered(organisation)
    except OSError as error:  # the mail server: what was sent stays claimed, retry the rest
        raise self.retry(exc=error) from error
    return {"reminded": reminded, "returned": returned}


@shared_task
def expire_shortlists() -> int:
    """Daily: close shortlists nobody chose from in time, in each organisation that has one."""
    return fan_out(
        expire_organisation_shortlists, programmes__shortlists__status=Shortlist.Status.OPEN
    )


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=300)
def expire_organisation_shortlists(self, organisation) -> int:
    """Mark expired shortlists and tell the lead nurses (or admins) to match directly, once."""
    try:
        return shortlists.expire_shortlists(organisation)
    except OSError as error:
        raise self.retry(exc=error) from error
