"""The capability self-assessment and each programme's framework.

The self-assessment pages name ``cast.mentee_record``, the ``cast.mentee`` person's
own record; the cast's mentor mentors it (the relationship of ``relationships``),
so both may open them. Admins and lead nurses may not: the self-assessment is the
mentee's, read by their mentor and nobody else. Framework pages are the admin's,
for ``cast.programme`` (every programme gets the default framework when made).
"""

from django_scopes import scopes_disabled

from . import Case
from .relationships import relationship

PAIR = ("mentor", "mentee")


def mentee(cast, side):
    """The side's mentee, with a mentor in an open relationship."""
    relationship(cast, side)
    return {"mentee_pk": (cast.mentee_record if side == "home" else cast.foreign_mentee).pk}


def assessment(cast, side):
    """One self-assessment of the side's mentee, made on first use."""
    from mentoring.models import SelfAssessment

    kwargs = mentee(cast, side)
    with scopes_disabled():
        record = SelfAssessment.objects.filter(mentee_id=kwargs["mentee_pk"]).first()
        if record is None:
            record = SelfAssessment.objects.create(mentee_id=kwargs["mentee_pk"])
    return {**kwargs, "pk": record.pk}


def _programme(cast, side):
    return cast.programme if side == "home" else cast.other_programme


def programme(cast, side):
    return {"programme_pk": _programme(cast, side).pk}


def capability(cast, side):
    """A capability of the side's programme nobody has rated, so it may be removed."""
    the_programme = _programme(cast, side)
    with scopes_disabled():
        record = the_programme.capabilities.filter(ratings__isnull=True).first()
    return {"programme_pk": the_programme.pk, "pk": record.pk}


CASES = {
    "mentoring:capability_home": Case(("owner", *PAIR)),
    "mentoring:capability_overview": Case(PAIR, mentee),
    "mentoring:capability_assess": Case(("mentee",), mentee),
    "mentoring:capability_assessment": Case(PAIR, assessment),
    "mentoring:capability_priorities": Case(PAIR, mentee),
    "mentoring:capability_ask_line_manager": Case(PAIR, mentee),
    "mentoring:capability_framework": Case(("owner",), programme),
    "mentoring:capability_edit": Case(("owner",), capability),
    "mentoring:capability_remove": Case(("owner",), capability),
}

PUBLIC_URLS = {
    "line_manager_priorities": "tests/test_capability.py::"
    "test_line_manager_marks_priorities_through_the_link_without_signing_in",
}
