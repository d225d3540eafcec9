"""The assigned model: suggestions, assigning and exclusions for one mentee.

Pages name ``cast.mentee_record`` (in the colleague lead nurse's trust); the lead
nurse who covers no trust, the mentor and the mentee may not open them. Assigning
is POST only: a GET goes back to the suggestions.
"""

from django_scopes import scopes_disabled

from . import Case
from .mentoring_intake import MENTEE_MANAGERS, foreign_mentor, mentee


def excluded_mentor(cast):
    """A second mentor of the home programme, the one the home exclusion names."""
    from mentoring.models import Mentor

    from ..factories import UserFactory

    with scopes_disabled():
        user = UserFactory(email="excluded.mentor@home.test", full_name="Excluded Mentor")
        mentor, _ = Mentor.objects.get_or_create(programme=cast.programme, user=user)
    return mentor


def exclusion(cast, side):
    from matching.models import Exclusion

    if side == "home":
        the_mentee, the_mentor = cast.mentee_record, excluded_mentor(cast)
    else:
        the_mentee, the_mentor = cast.foreign_mentee, foreign_mentor(cast)
    with scopes_disabled():
        record, _ = Exclusion.objects.get_or_create(
            programme=the_mentee.programme,
            mentee=the_mentee,
            mentor=the_mentor,
            defaults={"reason": Exclusion.Reason.CONFLICT_OF_INTEREST},
        )
    return {"pk": record.pk}


CASES = {
    "matching:suggestions": Case(MENTEE_MANAGERS, mentee),
    "matching:assign": Case(MENTEE_MANAGERS, mentee, ok_status=302),
    "matching:exclusions": Case(MENTEE_MANAGERS, mentee),
    "matching:exclusion_delete": Case(MENTEE_MANAGERS, exclusion),
}
