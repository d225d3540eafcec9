"""Mentoring's side of things that happen in ``programmes``.

``programmes`` never imports this app: it sends signals, and these receivers
create the records a new role needs. They run inside the sender's transaction
and organisation scope, so a failure here rolls the whole acceptance back.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from programmes import audit
from programmes.models import AuditEvent, Criterion, Programme, Role
from programmes.signals import application_accepted, invitation_accepted

from .frameworks import add_default_framework
from .models import Mentee, Mentor


@receiver(invitation_accepted, dispatch_uid="mentoring.link_invited_person")
def link_invited_person(sender, invitation, user, **kwargs) -> None:
    """A mentor gets a mentor profile in the programme; a mentee is joined to their record."""
    if invitation.programme_id is None:
        return
    if invitation.role == Role.MENTOR:
        Mentor.objects.get_or_create(
            programme_id=invitation.programme_id,
            user=user,
            defaults={"trust_id": invitation.trust_id},
        )
    elif invitation.role == Role.MENTEE:
        Mentee.objects.filter(
            programme_id=invitation.programme_id,
            email__iexact=invitation.email,
            user__isnull=True,
        ).update(user=user)


@receiver(application_accepted, dispatch_uid="mentoring.link_accepted_applicant")
def link_accepted_applicant(
    sender, application, actor, trust=None, role_title="", specialism="", **kwargs
) -> None:
    """An accepted mentor gets a mentor profile to complete; an accepted mentee gets a
    mentee record waiting for a match in the application's cohort.

    A mentee record with the applicant's address already in the programme (a lead
    nurse added them, or they came through an earlier cohort) is joined to the
    account, the cohort and the application instead of a second one being made.
    Without a trust (an organisation that has none) no new record can be made.
    """
    if application.side == "mentor":
        Mentor.objects.get_or_create(
            programme_id=application.programme_id, user=application.applicant
        )
        return
    applicant = application.applicant
    email = applicant.email.strip().lower()
    existing = (
        Mentee.objects.select_for_update()
        .filter(programme_id=application.programme_id, email__iexact=email)
        .first()
    )
    if existing is not None:
        # A record already joined to another account keeps it.
        if existing.user_id is None:
            existing.user = applicant
        existing.cohort_id = application.cohort_id
        existing.source_application = application
        existing.save(update_fields=["user", "cohort", "source_application"])
        _record_mentee(
            application,
            existing,
            AuditEvent.Action.CHANGE,
            actor,
            ["user", "cohort", "source_application"],
        )
        return
    if trust is None:
        return
    mentee = Mentee.objects.create(
        programme_id=application.programme_id,
        trust=trust,
        cohort_id=application.cohort_id,
        user=applicant,
        full_name=applicant.full_name or email,
        email=email,
        role_title=role_title,
        specialism=specialism,
        identified_by=Mentee.IdentifiedBy.SELF_REFERRAL,
        status=Mentee.Status.AWAITING_MATCH,
        source_application=application,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    codes = list(application.ranked_criteria or [])
    if codes:
        mentee.criteria_wanted.set(
            Criterion.objects.filter(programme_id=application.programme_id, code__in=codes)
        )
    _record_mentee(
        application,
        mentee,
        AuditEvent.Action.CREATE,
        actor,
        ["trust", "cohort", "user", "full_name", "email", "role_title", "specialism"],
    )


def _record_mentee(application, mentee: Mentee, action: str, actor, fields: list[str]) -> None:
    audit.record(
        organisation=application.programme.organisation,
        actor=actor,
        action=action,
        obj=mentee,
        label="Mentee record from an accepted application",
        fields=fields,
    )


@receiver(post_save, sender=Programme, dispatch_uid="mentoring.add_default_framework")
def give_new_programme_a_framework(sender, instance, created, raw=False, **kwargs) -> None:
    """A new programme starts with the default capability framework, ready to edit."""
    if created and not raw:
        add_default_framework(instance)
