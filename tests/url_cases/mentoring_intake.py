"""The lead nurse's intake queue, mentee records and mentor profiles.

Mentee pages name ``cast.mentee_record``: in ``cast.trust``, which the colleague
lead nurse covers, and the ``cast.mentee`` person's own record. A lead nurse who
covers no trust may not open it, and the mentor has no relationship with it.
"""

from django_scopes import scopes_disabled

from . import ADMIN_AND_LEADS, Case

MENTEE_MANAGERS = ("owner", "colleague")


def mentee(cast, side):
    return {"pk": (cast.mentee_record if side == "home" else cast.foreign_mentee).pk}


def foreign_mentor(cast):
    """A mentor profile in the other organisation (the cast has none of its own)."""
    from mentoring.models import Mentor

    with scopes_disabled():
        mentor, _ = Mentor.objects.get_or_create(
            programme=cast.other_programme, user=cast.other_admin
        )
    return mentor


def mentor(cast, side):
    return {"pk": (cast.mentor_record if side == "home" else foreign_mentor(cast)).pk}


CASES = {
    "mentoring:mentee_queue": Case(ADMIN_AND_LEADS),
    "mentoring:mentee_create": Case(ADMIN_AND_LEADS),
    "mentoring:mentee_detail": Case(("owner", "colleague", "mentee"), mentee),
    "mentoring:mentee_edit": Case(MENTEE_MANAGERS, mentee),
    "mentoring:mentee_priority": Case(MENTEE_MANAGERS, mentee),
    "mentoring:mentee_withdraw": Case(MENTEE_MANAGERS, mentee),
    "mentoring:mentor_list": Case(ADMIN_AND_LEADS),
    "mentoring:mentor_detail": Case((*ADMIN_AND_LEADS, "mentor"), mentor),
    "mentoring:mentor_profile": Case(("mentor",)),
    "mentoring:mentor_profile_edit": Case(("mentor",), mentor),
}
