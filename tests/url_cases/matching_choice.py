"""Mentee choice and hybrid matching: mentees choose, mentors answer, shortlists.

Objects on the home side live in two programmes added to the cast's organisation:
one where mentees choose (``cast.mentee`` waits in it, ``cast.mentor`` mentors in
it) and one hybrid (the same two people, with an open shortlist). The other side
uses the other organisation's programme and people.
"""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from . import ADMIN_AND_LEADS, Case
from .mentoring_intake import foreign_mentor

MENTEE = ("mentee",)
MENTOR = ("mentor",)
MENTEE_MANAGERS = ("owner", "colleague")


def _programme(cast, model: str):
    from programmes.models import Programme
    from tests.factories import ProgrammeFactory

    name = {"mentee_choice": "Home Choice Mentoring", "hybrid": "Home Hybrid Mentoring"}[model]
    with scopes_disabled():
        programme = Programme.objects.filter(organisation=cast.org, name=name).first()
    return programme or ProgrammeFactory(organisation=cast.org, name=name, matching_model=model)


def _people(cast, model: str):
    """``cast.mentee`` waiting and ``cast.mentor`` with places, in a programme of this model."""
    from mentoring.models import Mentee, Mentor

    programme = _programme(cast, model)
    with scopes_disabled():
        mentor, _ = Mentor.objects.get_or_create(
            programme=programme,
            user=cast.mentor,
            defaults={
                "trust": cast.trust,
                "profession": "Cancer clinical nurse specialist",
                "specialisms": "lung, breast",
                "years_experience": 30,
                "bio": "Thirty years in cancer nursing.",
            },
        )
        mentee, _ = Mentee.objects.get_or_create(
            programme=programme,
            email="mentee@home.test",
            defaults={
                "trust": cast.trust,
                "user": cast.mentee,
                "full_name": "Home Mentee",
                "role_title": "Lung cancer CNS",
                "specialism": "lung",
                "identified_by": "self_referral",
                "status": Mentee.Status.AWAITING_MATCH,
            },
        )
    return mentee, mentor


def _request(cast, side):
    from matching.models import MatchRequest

    if side == "home":
        mentee, mentor = _people(cast, "mentee_choice")
    else:
        mentee, mentor = cast.foreign_mentee, foreign_mentor(cast)
    with scopes_disabled():
        match_request, _ = MatchRequest.objects.get_or_create(
            programme=mentee.programme,
            mentee=mentee,
            mentor=mentor,
            defaults={"message": "I would value your experience."},
        )
    return match_request


def _entry(cast, side):
    from matching.models import Shortlist, ShortlistEntry

    if side == "home":
        mentee, mentor = _people(cast, "hybrid")
    else:
        mentee, mentor = cast.foreign_mentee, foreign_mentor(cast)
    with scopes_disabled():
        shortlist, _ = Shortlist.objects.get_or_create(
            programme=mentee.programme,
            mentee=mentee,
            status=Shortlist.Status.OPEN,
            defaults={"expires_on": timezone.localdate() + datetime.timedelta(days=14)},
        )
        entry, _ = ShortlistEntry.objects.get_or_create(
            shortlist=shortlist,
            mentor=mentor,
            defaults={"rank": 1, "score": 30, "reasons": ["same trust", "specialism: lung"]},
        )
    return entry


def _request_kwargs(cast, side):
    return {"pk": _request(cast, side).pk}


def _mentor_kwargs(cast, side):
    if side == "home":
        return {"pk": _people(cast, "mentee_choice")[1].pk}
    return {"pk": foreign_mentor(cast).pk}


def _entry_kwargs(cast, side):
    return {"pk": _entry(cast, side).pk}


def _mentee_kwargs(cast, side):
    return {"pk": (cast.mentee_record if side == "home" else cast.foreign_mentee).pk}


CASES = {
    "matching:choose_mentor": Case(MENTEE),
    "matching:choose_mentor_profile": Case(MENTEE, _mentor_kwargs),
    "matching:request_list": Case(MENTOR),
    # A GET has nothing to change and goes back to the mentee's choice page.
    "matching:request_withdraw": Case(MENTEE, _request_kwargs, ok_status=302),
    "matching:request_answer": Case(MENTOR, _request_kwargs),
    "matching:shortlist_admin": Case(ADMIN_AND_LEADS),
    # A GET goes back to the list of shortlists.
    "matching:shortlist_offer": Case(MENTEE_MANAGERS, _mentee_kwargs, ok_status=302),
    "matching:my_shortlist": Case(MENTEE),
    # A GET goes back to the mentee's shortlist.
    "matching:shortlist_choose": Case(MENTEE, _entry_kwargs, ok_status=302),
}
