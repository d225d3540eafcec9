"""Data for a test's own database, made and checked from a process pointed at it.

``build`` makes a programme with a signed-in mentor and surveys waiting to be
answered by link; ``consistency`` reads back every survey response and session log
and lists what would be a half-written one. Both print JSON for the test to read.
"""

from __future__ import annotations

import datetime
import json

from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from mentoring.models import Relationship, SessionLog
from programmes.models import AuditEvent, Role
from surveys.models import Question, SurveyInvitation, SurveyResponse

from ..factories import (
    MembershipFactory,
    MenteeFactory,
    MentorFactory,
    OrganisationFactory,
    ProgrammeFactory,
    TrustFactory,
    UserFactory,
)
from ..factories_matching import RelationshipFactory
from ..test_survey_respond import make_invitation

SLUG = "restart"


def build(invitations: int) -> None:
    """A mentor (signed in: the session cookie is printed) with one mentee, and
    ``invitations`` mentees each with a starter survey link."""
    organisation = OrganisationFactory(name="Restart Test Alliance", slug=SLUG)
    trust = TrustFactory(organisation=organisation, name="Restart General Hospital")
    programme = ProgrammeFactory(organisation=organisation, name="Restart test programme")
    user = UserFactory(email="mentor@restart.test", full_name="Rhoda Mentor")
    MembershipFactory(organisation=organisation, user=user, role=Role.MENTOR)
    mentor = MentorFactory(programme=programme, user=user, trust=trust)
    pair = RelationshipFactory(
        mentee=MenteeFactory(programme=programme, trust=trust, email="paired@restart.test"),
        mentor=mentor,
        stage=Relationship.Stage.NAVIGATING,
        started_on=timezone.localdate() - datetime.timedelta(days=60),
    )
    links = []
    for number in range(invitations):
        mentee = MenteeFactory(
            programme=programme, trust=trust, email=f"restart.mentee{number}@trust.test"
        )
        invitation, token = make_invitation(programme, mentee=mentee)
        links.append({"invitation": invitation.pk, "token": token})
    client = Client()
    client.force_login(user)
    print(
        json.dumps(
            {
                "relationship": pair.pk,
                "session": client.cookies["sessionid"].value,
                "links": links,
            }
        )
    )


def _audited(object_type: str, pk: int) -> int:
    return AuditEvent.objects.filter(
        object_type=object_type, object_id=str(pk), action=AuditEvent.Action.CREATE
    ).count()


def consistency() -> None:
    """Every response submitted whole (its invitation completed, every required answer,
    audited once) or still in progress; every session log with its pair, its action and
    its audit event."""
    problems = []
    with scopes_disabled():
        required = {}
        for invitation in SurveyInvitation.objects.all():
            required[invitation.pk] = set(
                Question.objects.filter(
                    section__version_id=invitation.version_id, required=True
                ).values_list("code", flat=True)
            )
        responses = list(SurveyResponse.objects.select_related("invitation"))
        for response in responses:
            invitation = response.invitation
            if response.submitted_at is None:
                if invitation.completed_at is not None:
                    problems.append(f"response {response.pk}: invitation completed, not submitted")
                continue
            if invitation.completed_at != response.submitted_at:
                problems.append(f"response {response.pk}: submitted, invitation not completed")
            missing = required[invitation.pk] - set(response.answers)
            if missing:
                problems.append(f"response {response.pk}: submitted without {sorted(missing)}")
            if _audited("surveyresponse", response.pk) != 1:
                problems.append(f"response {response.pk}: not audited exactly once")
        answered = {r.invitation_id for r in responses if r.submitted_at}
        for invitation in SurveyInvitation.objects.filter(completed_at__isnull=False):
            if invitation.pk not in answered:
                problems.append(f"invitation {invitation.pk}: completed without a response")

        logs = list(SessionLog.objects.prefetch_related("relationships", "actions"))
        for log in logs:
            if len(log.relationships.all()) != 1:
                problems.append(f"session log {log.pk}: not in exactly one relationship's log")
            if len(log.actions.all()) != 1:
                problems.append(f"session log {log.pk}: its action is missing")
            if _audited("sessionlog", log.pk) != 1:
                problems.append(f"session log {log.pk}: not audited exactly once")
        print(
            json.dumps(
                {
                    "problems": problems,
                    "submitted": len(answered),
                    "in_progress": sum(1 for r in responses if r.submitted_at is None),
                    "session_logs": len(logs),
                }
            )
        )
