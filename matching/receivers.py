"""Matching's side of what happens in mentoring."""

from django.db import transaction
from django.dispatch import receiver

from mentoring.signals import relationship_ended_early

from .models import Exclusion


@receiver(relationship_ended_early, dispatch_uid="matching.exclude_ended_pair")
def exclude_ended_pair(sender, relationship, actor, **kwargs) -> None:
    """A pair that ended early is never proposed again; both people are told."""
    from .tasks import send_rematch_emails

    Exclusion.objects.get_or_create(
        programme=relationship.programme,
        mentee=relationship.mentee,
        mentor=relationship.mentor,
        defaults={
            "reason": Exclusion.Reason.ASKED_TO_LEAVE,
            "note": "Ended early; not to be matched again.",
            "created_by": relationship.ended_by,
        },
    )
    organisation_id = relationship.programme.organisation_id
    transaction.on_commit(lambda: send_rematch_emails.delay(organisation_id, relationship.pk))
