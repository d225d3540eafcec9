"""Each programme's survey schedule, its waves, and resending one invitation.

The schedule is the admin's; the waves (counts, and invitations by pseudonym) are
read by the admin and evaluators. Each side's programme gets a ``starter`` rule and
one starter invitation for its mentee. Switching a wave off or on and resending are
buttons (POST): a GET goes back to the schedule or the wave.
"""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from . import ADMIN, Case

ADMIN_AND_EVALUATOR = ("owner", "evaluator")


def _programme(cast, side):
    return cast.programme if side == "home" else cast.other_programme


def starter_rule(programme):
    """The programme's starter wave (made unscoped, as the test data is)."""
    from surveys.instruments import default_instrument
    from surveys.models import Audience, Instrument, ScheduleRule

    with scopes_disabled():
        instrument = default_instrument(programme, Instrument.Kind.MENTEE_STARTER)
        rule, _ = ScheduleRule.objects.get_or_create(
            programme=programme,
            wave="starter",
            defaults={"instrument": instrument, "audience": Audience.MENTEE},
        )
    return rule


def starter_invitation(cast, side):
    from mentoring.pseudonyms import mentee_key
    from surveys.models import Audience, SurveyInvitation

    programme = _programme(cast, side)
    mentee = cast.mentee_record if side == "home" else cast.foreign_mentee
    rule = starter_rule(programme)
    today = timezone.localdate()
    with scopes_disabled():
        invitation, _ = SurveyInvitation.objects.get_or_create(
            programme=programme,
            key=f"starter:mentee:{mentee.pk}:0",
            defaults={
                "rule": rule,
                "version": rule.instrument.versions.order_by("-number").first(),
                "wave": "starter",
                "audience": Audience.MENTEE,
                "mentee": mentee,
                "email": mentee.email,
                "pseudonym": mentee_key(mentee),
                "due_on": today,
                "expires_on": today + datetime.timedelta(days=28),
            },
        )
    return invitation


def programme(cast, side):
    return {"programme_pk": _programme(cast, side).pk}


def rule(cast, side):
    return {
        "programme_pk": _programme(cast, side).pk,
        "pk": starter_rule(_programme(cast, side)).pk,
    }


def wave(cast, side):
    starter_invitation(cast, side)
    return {"programme_pk": _programme(cast, side).pk, "wave": "starter"}


def invitation(cast, side):
    return {"programme_pk": _programme(cast, side).pk, "pk": starter_invitation(cast, side).pk}


CASES = {
    "surveys:schedule": Case(ADMIN, programme),
    "surveys:schedule_rule_create": Case(ADMIN, programme),
    "surveys:schedule_rule_edit": Case(ADMIN, rule),
    "surveys:schedule_rule_deactivate": Case(ADMIN, rule, ok_status=302),
    "surveys:schedule_rule_activate": Case(ADMIN, rule, ok_status=302),
    "surveys:schedule_standard": Case(ADMIN, programme),
    "surveys:waves": Case(ADMIN_AND_EVALUATOR, programme),
    "surveys:wave_detail": Case(ADMIN_AND_EVALUATOR, wave),
    "surveys:invitation_resend": Case(ADMIN, invitation, ok_status=302),
}
