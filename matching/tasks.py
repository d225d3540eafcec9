"""Matching's background jobs: the e-mails a new or ended pair sends."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from config.celery_app import OrganisationTask
from mentoring.models import Relationship


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


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
        + _absolute(reverse("mentoring:mentor_profile", args=[programme.organisation.slug])),
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
