"""Paper copies, imported responses, and the responses a mentee shared with their mentor.

A paper copy is for ``cast.mentee_record``'s open starter invitation: in ``cast.trust``,
which the colleague lead nurse covers. The shared pages belong to the mentor of the
relationship between ``cast.mentor_record`` and ``cast.mentee_record``, and nobody
else: not the admin, not the lead nurse, not the mentee. The import's second and third
steps answer a GET with no file uploaded by going back to the first.

The builders below are shared with the survey response tests.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_scopes import scope, scopes_disabled

from . import ADMIN, ADMIN_AND_LEADS, Case
from .mentoring_intake import foreign_mentor

STARTER = "mentee_starter"


def starter_version(programme):
    """The programme's default mentee starter survey, latest version."""
    from surveys.instruments import add_default_instruments, default_instrument

    add_default_instruments(programme)
    instrument = default_instrument(programme, STARTER)
    with scope(organisation=programme.organisation):
        return instrument.versions.order_by("-number").first()


def schedule_wave(programme, version, wave="starter"):
    from surveys.models import ScheduleRule

    with scopes_disabled():
        rule, _ = ScheduleRule.objects.get_or_create(
            programme=programme,
            wave=wave,
            defaults={
                "instrument": version.instrument,
                "audience": version.instrument.audience,
                "reminder_days": [7, 14],
            },
        )
    return rule


def invitation_for(mentee, *, wave="starter", relationship=None, version=None):
    """The mentee's invitation for the wave, made once (the schedule's own key format)."""
    from mentoring.pseudonyms import mentee_key
    from surveys.models import Audience, SurveyInvitation

    programme = mentee.programme
    version = version or starter_version(programme)
    rule = schedule_wave(programme, version, wave)
    today = timezone.localdate()
    with scopes_disabled():
        invitation, _ = SurveyInvitation.objects.get_or_create(
            programme=programme,
            key=f"{wave}:{Audience.MENTEE}:{mentee.pk}:{relationship.pk if relationship else ''}",
            defaults={
                "rule": rule,
                "version": version,
                "wave": wave,
                "audience": Audience.MENTEE,
                "mentee": mentee,
                "relationship": relationship,
                "email": mentee.email,
                "pseudonym": mentee_key(mentee),
                "due_on": today,
                "expires_on": today + datetime.timedelta(days=28),
            },
        )
    return invitation


def open_relationship(the_mentee, the_mentor):
    from mentoring.models import Relationship

    from ..factories_matching import RelationshipFactory

    with scopes_disabled():
        found = Relationship.objects.filter(
            mentee=the_mentee, mentor=the_mentor, stage__in=Relationship.OPEN_STAGES
        ).first()
    return found or RelationshipFactory(
        mentee=the_mentee, mentor=the_mentor, stage=Relationship.Stage.GETTING_STARTED
    )


def shared_response_for(relationship, *, shared=True, wave="starter", answers=None):
    """A submitted response to the relationship's invitation for the wave."""
    from surveys.models import SurveyInvitation, SurveyResponse

    invitation = invitation_for(relationship.mentee, wave=wave, relationship=relationship)
    now = timezone.now()
    with scopes_disabled():
        response, _ = SurveyResponse.objects.get_or_create(
            invitation=invitation,
            defaults={
                "programme": invitation.programme,
                "version": invitation.version,
                "wave": wave,
                "pseudonym": invitation.pseudonym,
                "answers": answers if answers is not None else {"confidence_role": 2},
                "shared_with_mentor": shared,
                "channel": SurveyInvitation.Channel.EMAIL,
                "submitted_at": now,
            },
        )
        SurveyInvitation.objects.filter(pk=invitation.pk).update(completed_at=now)
    return response


def _sides(cast, side):
    if side == "home":
        return cast.mentee_record, cast.mentor_record
    return cast.foreign_mentee, foreign_mentor(cast)


def paper_invitation(cast, side):
    the_mentee = cast.mentee_record if side == "home" else cast.foreign_mentee
    return {"pk": invitation_for(the_mentee, wave="paper-case").pk}


def relationship(cast, side):
    return {"pk": open_relationship(*_sides(cast, side)).pk}


def shared_response(cast, side):
    record = open_relationship(*_sides(cast, side))
    return {"pk": record.pk, "response_pk": shared_response_for(record).pk}


MENTOR_ONLY = ("mentor",)

CASES = {
    "surveys:paper_list": Case(ADMIN_AND_LEADS),
    "surveys:paper_entry": Case(("owner", "colleague"), paper_invitation),
    "surveys:import_upload": Case(ADMIN),
    # With no file uploaded, the later steps go back to the upload page.
    "surveys:import_map": Case(ADMIN, ok_status=302),
    "surveys:import_preview": Case(ADMIN, ok_status=302),
    "surveys:shared_responses": Case(MENTOR_ONLY, relationship),
    "surveys:shared_response": Case(MENTOR_ONLY, shared_response),
}
