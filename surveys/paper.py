"""Paper copies: answers from a printed survey, typed in by the programme team.

A paper copy completes its invitation exactly as an online submit does, and at most
once: the invitation is claimed by a one-table conditional UPDATE (``completed_at``
still empty), and only the request whose claim changed the row saves the answers.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from programmes import audit
from programmes.claims import claim_row
from programmes.models import AuditEvent

from .instruments import freeze
from .models import SurveyInvitation, SurveyResponse

NOT_FOUND = "No such page in this organisation."


class AlreadyCompleted(Exception):
    """The invitation was completed (online, on paper or by import) before this copy."""

    message = (
        "This survey has already been completed, so the paper copy was not saved. "
        "Each person answers each survey once."
    )


def invitations_for_paper(request) -> QuerySet[SurveyInvitation]:
    """Invitations whose paper copy this person may enter.

    Admins: every invitation in the organisation. Lead nurses: those of the people in
    the trusts they cover (the mentee's trust; for a mentor's survey, the mentor's).
    Anyone else, and a lead nurse covering no trust: none.
    """
    access = request.access
    invitations = SurveyInvitation.objects.filter(programme__organisation=request.organisation)
    if access.is_admin:
        return invitations
    trust_ids = access.lead_nurse_trust_ids if access.is_lead_nurse else ()
    if not trust_ids:
        return invitations.none()
    return invitations.filter(
        Q(mentee__trust_id__in=trust_ids)
        | Q(mentee__isnull=True, mentor__trust_id__in=trust_ids)
        | Q(mentee__isnull=True, mentor__isnull=True, relationship__mentee__trust_id__in=trust_ids)
    )


def get_invitation_for_paper(request, pk) -> SurveyInvitation:
    invitation = (
        invitations_for_paper(request)
        .select_related(
            "programme",
            "version__instrument",
            "mentee__trust",
            "mentor__user",
            "relationship__mentee",
        )
        .filter(pk=pk)
        .first()
    )
    if invitation is None:
        raise Http404(NOT_FOUND)
    return invitation


def person_name(invitation: SurveyInvitation) -> str:
    if invitation.mentee_id:
        return invitation.mentee.full_name
    if invitation.mentor_id:
        return invitation.mentor.user.full_name or invitation.mentor.user.email
    return invitation.email


def claim(invitation: SurveyInvitation, when) -> bool:
    """Mark the invitation completed if nobody has; True only for the one who did.

    A single-table UPDATE under ``scopes_disabled``: a scoped update would become an
    ``UPDATE ... WHERE id IN (SELECT ...)``, which two racing requests can both win.
    """
    return claim_row(
        SurveyInvitation, invitation.pk, completed_at__isnull=True, changes={"completed_at": when}
    )


@transaction.atomic
def enter_paper_copy(
    invitation: SurveyInvitation,
    answers: dict,
    *,
    shared_with_mentor: bool,
    actor,
    path: str = "",
) -> SurveyResponse:
    """Save a paper copy as the invitation's response; raises AlreadyCompleted."""
    now = timezone.now()
    if not claim(invitation, now):
        raise AlreadyCompleted(AlreadyCompleted.message)
    # A response started online and left unfinished becomes the paper copy.
    response = SurveyResponse.objects.filter(invitation=invitation).first()
    if response is None:
        response = SurveyResponse(programme=invitation.programme, invitation=invitation)
    elif response.submitted_at is not None:
        raise AlreadyCompleted(AlreadyCompleted.message)
    response.version = invitation.version
    response.wave = invitation.wave
    response.pseudonym = invitation.pseudonym
    response.answers = answers
    response.shared_with_mentor = shared_with_mentor
    response.channel = SurveyInvitation.Channel.PAPER
    response.entered_by = actor
    response.submitted_at = now
    response.save()
    freeze(invitation.version)
    audit.record(
        organisation=invitation.programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=response,
        label=f"Paper copy of the {invitation.wave} survey for {invitation.pseudonym}",
        fields=[*answers, "shared_with_mentor"],
        path=path,
    )
    return response
