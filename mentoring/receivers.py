"""Mentoring's side of things that happen in ``programmes``.

``programmes`` never imports this app: it sends signals, and these receivers
create the records a new role needs. They run inside the sender's transaction
and organisation scope, so a failure here rolls the whole acceptance back.
"""

from django.dispatch import receiver

from programmes.models import Role
from programmes.signals import application_accepted, invitation_accepted

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
def link_accepted_applicant(sender, application, actor, **kwargs) -> None:
    """An accepted mentor gets a mentor profile to complete; an accepted mentee's record,
    if a lead nurse already made one with the same address, is joined to their account."""
    if application.side == "mentor":
        Mentor.objects.get_or_create(
            programme_id=application.programme_id, user=application.applicant
        )
    else:
        Mentee.objects.filter(
            programme_id=application.programme_id,
            email__iexact=application.applicant.email,
            user__isnull=True,
        ).update(user=application.applicant)
