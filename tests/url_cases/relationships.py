"""Mentoring relationships: the list, one relationship, ending it early.

The home relationship pairs ``cast.mentor_record`` with ``cast.mentee_record`` (in
the colleague lead nurse's trust), so the admin, that lead nurse, the mentor and
the mentee may all open it; the lead nurse who covers no trust and the evaluator
may not. The other organisation's relationship pairs its own mentor and mentee.
"""

from django_scopes import scopes_disabled

from . import Case
from .mentoring_intake import foreign_mentor

PEOPLE_IN_IT = ("owner", "colleague", "mentor", "mentee")


def relationship(cast, side):
    from mentoring.models import Relationship

    from ..factories_matching import RelationshipFactory

    if side == "home":
        the_mentee, the_mentor = cast.mentee_record, cast.mentor_record
    else:
        the_mentee, the_mentor = cast.foreign_mentee, foreign_mentor(cast)
    with scopes_disabled():
        record = Relationship.objects.filter(
            mentee=the_mentee, mentor=the_mentor, stage__in=Relationship.OPEN_STAGES
        ).first()
    if record is None:
        record = RelationshipFactory(mentee=the_mentee, mentor=the_mentor)
    return {"pk": record.pk}


CASES = {
    "mentoring:relationship_list": Case(
        ("owner", "colleague", "lead_without_trusts", "mentor", "mentee")
    ),
    "mentoring:relationship_detail": Case(PEOPLE_IN_IT, relationship),
    "mentoring:relationship_end": Case(PEOPLE_IN_IT, relationship),
}
