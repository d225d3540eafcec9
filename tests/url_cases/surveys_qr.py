"""QR codes for printed packs, and the programme's survey poster.

Each side gets an open starter-survey invitation for its mentee: at home the cast's
mentee (in the colleague's trust, so the colleague lead nurse may print the pack),
in the other organisation the foreign mentee. Pack pages are for admins and the
lead nurse of the mentee's trust; the downloads answer a GET by sending the person
back to the pack page (the files need the ticket a POST made; tests/test_survey_qr.py
covers them). The poster page is for admins; the public page its code opens is
covered by tests/test_survey_poster.py.
"""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from . import ADMIN, ADMIN_AND_LEADS, Case

_POSTER_TESTS = "tests/test_survey_poster.py::"


def open_invitation(programme, mentee, *, wave="starter", email=None, **fields):
    """An open invitation of a mentee wave (made unscoped, as the test data is)."""
    from mentoring.pseudonyms import mentee_key
    from surveys.models import Audience, Instrument, InstrumentVersion, SurveyInvitation

    today = timezone.localdate()
    with scopes_disabled():
        instrument, _ = Instrument.objects.get_or_create(
            programme=programme,
            name="Mentee starter survey",
            defaults={"kind": Instrument.Kind.MENTEE_STARTER, "audience": Audience.MENTEE},
        )
        version, _ = InstrumentVersion.objects.get_or_create(instrument=instrument, number=1)
        values = {
            "version": version,
            "wave": wave,
            "audience": Audience.MENTEE,
            "mentee": mentee,
            "email": email or mentee.email,
            "pseudonym": mentee_key(mentee),
            "due_on": today,
            "expires_on": today + datetime.timedelta(days=28),
            "channel": SurveyInvitation.Channel.QR,
        } | fields
        invitation, _ = SurveyInvitation.objects.get_or_create(
            programme=programme, key=f"mentee:{mentee.pk}:{wave}", defaults=values
        )
    return invitation


def invitation(cast, side):
    if side == "home":
        record = open_invitation(cast.programme, cast.mentee_record)
    else:
        record = open_invitation(cast.other_programme, cast.foreign_mentee)
    return {"pk": record.pk}


def programme(cast, side):
    return {"pk": (cast.programme if side == "home" else cast.other_programme).pk}


def programme_with_invitation(cast, side):
    invitation(cast, side)
    return programme(cast, side)


MAKERS = ("owner", "colleague")

CASES = {
    "surveys:qr_list": Case(ADMIN_AND_LEADS, programme_with_invitation),
    "surveys:qr_pack": Case(MAKERS, invitation),
    "surveys:qr_png": Case(MAKERS, invitation, ok_status=302),
    "surveys:qr_svg": Case(MAKERS, invitation, ok_status=302),
    "surveys:qr_pdf": Case(MAKERS, invitation, ok_status=302),
    "surveys:poster": Case(ADMIN, programme),
}

PUBLIC_URLS = {
    "survey_public:poster": _POSTER_TESTS
    + "test_known_and_unknown_addresses_get_the_same_answer_and_only_known_get_mail",
    "survey_public:poster_sent": _POSTER_TESTS + "test_sent_page_answers_only_for_real_posters",
}
