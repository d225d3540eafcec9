"""The agreement, its versions and PDF, and the goals of a relationship.

The home relationship (``cast.mentor_record`` with ``cast.mentee_record``) has a
version 1 signed by both that shares the papers with the lead nurse, and one goal,
so the admin and the colleague lead nurse may read them as well as the pair. Only
the mentor drafts and sends; the mentor and the mentee sign. The signing link is
public and covered by tests/test_agreements.py.
"""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from . import Case
from .relationships import PEOPLE_IN_IT, relationship

_TESTS = "tests/test_agreements.py::"


def signed_agreement(record, *, shared=True, version=1, **fields):
    """A version signed by both (made unscoped, as the test data is)."""
    from mentoring.models import Agreement

    when = timezone.now() - datetime.timedelta(days=2)
    mentee_name = record.mentee.full_name
    mentor_name = record.mentor.user.full_name
    values = {
        "goals": "Understand the CNS role in the MDT\nBuild confidence in breaking bad news",
        "meeting_frequency": "Once a month",
        "meeting_duration": "One hour",
        "evaluation_period": "12 months",
        "progress_recording": "The session log, reviewed together every three months.",
        "confidentiality": record.programme.confidentiality_statement,
        "shared_with_lead_nurse": shared,
        "sent_at": when,
        "mentor_signed_name": mentor_name,
        "mentor_signed_at": when,
        "mentee_signed_name": mentee_name,
        "mentee_signed_at": when,
    } | fields
    with scopes_disabled():
        agreement, _ = Agreement.objects.get_or_create(
            relationship=record, version=version, defaults=values
        )
    return agreement


def _papers(cast, side):
    from mentoring.models import Goal, Relationship

    kwargs = relationship(cast, side)
    with scopes_disabled():
        record = Relationship.objects.select_related("mentee", "mentor__user", "programme").get(
            pk=kwargs["pk"]
        )
        signed_agreement(record)
        goal, _ = Goal.objects.get_or_create(
            relationship=record, title="Understand the CNS role in the MDT"
        )
    return record, goal


def agreement(cast, side):
    record, _ = _papers(cast, side)
    return {"pk": record.pk}


def version(cast, side):
    record, _ = _papers(cast, side)
    return {"pk": record.pk, "version": 1}


def goal(cast, side):
    record, goal = _papers(cast, side)
    return {"pk": record.pk, "goal_pk": goal.pk}


PAIR = ("mentor", "mentee")

CASES = {
    "mentoring:agreement_detail": Case(PEOPLE_IN_IT, agreement),
    "mentoring:agreement_edit": Case(("mentor",), agreement),
    "mentoring:agreement_send": Case(("mentor",), agreement),
    "mentoring:agreement_sign": Case(PAIR, agreement),
    "mentoring:agreement_version": Case(PEOPLE_IN_IT, version),
    # Without ?download, a page with the download link; the PDF itself is tested in
    # tests/test_agreements.py.
    "mentoring:agreement_pdf": Case(PEOPLE_IN_IT, version),
    "mentoring:goal_detail": Case(PEOPLE_IN_IT, goal),
}

PUBLIC_URLS = {
    "agreement_sign_link": _TESTS + "test_mentee_without_account_signs_through_the_link_once",
    "agreement_new_link": _TESTS + "test_expired_link_emails_a_fresh_link_with_a_limit",
}
