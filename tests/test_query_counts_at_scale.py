"""Pages the load benchmark measures run as many queries for a large programme as for a
small one.

The intake queue, the relationship page, the programme dashboard and the cohort report
already pin this in their own tests (test_intake, test_sessions, test_dashboard,
test_cohort_report). Here: a survey section opened by link, and the same section saved
again, as the benchmark repeats it, while the programme gathers many more invitations,
links and submitted responses around the one being answered.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from surveys import respond
from surveys.models import SurveyResponse
from surveys.question_forms import frozen_sections
from tests.factories import MenteeFactory
from tests.test_survey_respond import STARTER_PAGES, make_invitation, open_link, page_url

pytestmark = pytest.mark.django_db


def others_answer(cast, count: int, start: int) -> None:
    """``count`` more mentees of the programme, each with a link used to submit a survey."""
    for number in range(start, start + count):
        with scope(organisation=cast.org):
            mentee = MenteeFactory(
                programme=cast.programme, trust=cast.trust, email=f"other{number}@hgh.test"
            )
        invitation, _ = make_invitation(cast.programme, mentee=mentee)
        with scope(organisation=cast.org):
            respond.issue_link(invitation)
            for answers in STARTER_PAGES:
                respond.save_answers(invitation, dict(answers), codes=list(answers))
            respond.save_answers(invitation, {}, share=number % 2 == 0)


def queries(client, method: str, url: str, data: dict | None = None) -> int:
    """The queries of one request, counting those that read the survey's questions
    (kept by each process once read; forgotten here so that both counts include them)."""
    frozen_sections.cache_clear()
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    assert response.status_code == (302 if method == "post" else 200)
    return len(captured)


@pytest.fixture
def answering(client, cast):
    """A mentee who opened their starter survey link and saved its first section."""
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    first = {**STARTER_PAGES[0], "action": "continue"}
    assert client.post(page_url(invitation, 1), first)["Location"] == page_url(invitation, 2)
    return invitation


def test_a_survey_section_runs_the_same_queries_with_many_more_responses_around_it(
    client, cast, answering
):
    section = page_url(answering, 1)
    others_answer(cast, 2, 0)
    few = queries(client, "get", section)
    others_answer(cast, 12, 2)
    with scope(organisation=cast.org):
        for _ in range(5):
            respond.issue_link(answering)
    assert queries(client, "get", section) == few


def test_saving_a_survey_section_again_runs_the_same_queries_with_many_more_responses(
    client, cast, answering
):
    section = page_url(answering, 1)
    first = {**STARTER_PAGES[0], "action": "continue"}
    others_answer(cast, 2, 0)
    few = queries(client, "post", section, first)
    others_answer(cast, 12, 2)
    assert queries(client, "post", section, first) == few


def test_saving_a_section_again_and_again_keeps_one_open_response_with_the_last_answers(
    client, cast, answering
):
    again = {**STARTER_PAGES[0], "years_registered": "9", "action": "continue"}
    for _ in range(3):
        assert client.post(page_url(answering, 1), again)["Location"] == page_url(answering, 2)
    with scope(organisation=cast.org):
        responses = list(SurveyResponse.objects.filter(invitation=answering))
        answering.refresh_from_db()
    assert len(responses) == 1
    assert responses[0].answers["years_registered"] == 9
    assert responses[0].submitted_at is None
    assert answering.completed_at is None
