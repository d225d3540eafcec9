"""Equity monitoring: groups from the optional questions of the starter survey, each
figure worked out by hand, "<8" for small groups with nothing derived, "Prefer not to
say" and "Not answered" as groups of their own, and the starter survey still
submitted with those questions left blank."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from evaluation.reports import equity
from mentoring.models import Relationship, SessionLog
from mentoring.pseudonyms import mentee_key
from surveys.instruments import default_instrument, latest_version
from surveys.models import Instrument, Question, SurveyInvitation, SurveyResponse

from .factories import MenteeFactory
from .factories_matching import RelationshipFactory
from .test_survey_respond import (
    STARTER_PAGES,
    answer_all,
    finish_url,
    make_invitation,
    open_link,
    page_url,
    response_of,
)

pytestmark = pytest.mark.django_db

EQUITY_CODES = [
    "eq_age_band",
    "eq_sex",
    "eq_ethnic_group",
    "eq_disability",
    "eq_trained_outside_uk",
]


def url(cast):
    return reverse("evaluation:equity", args=[cast.org.slug, cast.programme.pk])


def respond(programme, mentee, wave, *, via_invitation=False, **answers):
    """A submitted response, linked to the mentee by invitation or by pseudonym alone."""
    kind = Instrument.Kind.MENTEE_STARTER if wave == "starter" else Instrument.Kind.MENTEE_CLOSURE
    with scopes_disabled():
        version = latest_version(default_instrument(programme, kind))
        pseudonym = mentee_key(mentee)
        invitation = None
        if via_invitation:
            today = timezone.localdate()
            invitation = SurveyInvitation.objects.create(
                programme=programme,
                version=version,
                wave=wave,
                audience="mentee",
                mentee=mentee,
                email=mentee.email,
                pseudonym=pseudonym,
                key=f"{wave}:mentee:{mentee.pk}",
                due_on=today,
                expires_on=today,
                completed_at=timezone.now(),
            )
        SurveyResponse.objects.create(
            programme=programme,
            invitation=invitation,
            version=version,
            wave=wave,
            pseudonym=pseudonym,
            answers=answers,
            submitted_at=timezone.now(),
        )


def match(cast, mentee, *, stage=Relationship.Stage.NAVIGATING, sessions=0):
    relationship = RelationshipFactory(mentor=cast.mentor_record, mentee=mentee, stage=stage)
    with scopes_disabled():
        for _ in range(sessions):
            entry = SessionLog.objects.create(
                programme=cast.programme,
                mentor=cast.mentor_record,
                held_on=timezone.localdate(),
                duration_minutes=45,
                method=SessionLog.Method.PHONE,
                summary="Caught up.",
            )
            entry.relationships.add(relationship)
    return relationship


def mentee(cast):
    return MenteeFactory(programme=cast.programme, trust=cast.trust)


@pytest.fixture
def groups(cast):
    """Nine women, three men, eight who prefer not to say and two who left it blank.

    Eight of the women were matched (six still active, two closed), each relationship
    with two sessions, and answered the closure survey: their confidence rose by 1, 1,
    1, 1, 1, 2, 2 and 1 (a mean of 1.25). The ninth woman was not matched (her request
    was declined). The three men were matched with one session each; nobody else was.
    """
    for n in range(9):
        person = mentee(cast)
        respond(cast.programme, person, "starter", via_invitation=n % 2 == 0,
                eq_sex="female", confidence_role=2)  # fmt: skip
        if n < 8:
            stage = Relationship.Stage.CLOSED if n >= 6 else Relationship.Stage.NAVIGATING
            match(cast, person, stage=stage, sessions=2)
            respond(cast.programme, person, "closure", confidence_role=4 if n in (5, 6) else 3)
        else:
            match(cast, person, stage=Relationship.Stage.DECLINED)
    for _ in range(3):
        person = mentee(cast)
        respond(cast.programme, person, "starter", eq_sex="male", confidence_role=3)
        match(cast, person, sessions=1)
    for _ in range(8):
        respond(cast.programme, mentee(cast), "starter", eq_sex="prefer_not_to_say",
                confidence_role=3)  # fmt: skip
    for _ in range(2):
        respond(cast.programme, mentee(cast), "starter", confidence_role=3)


def table_rows(cast, code):
    with scope(organisation=cast.org):
        report = equity.build(cast.programme)
    return {row[0]: row[1:] for row in report.table(f"equity-{code}").rows}


def test_each_group_gets_uptake_and_the_change_in_confidence(cast, groups):
    rows = table_rows(cast, "eq_sex")
    # Answered, matched, matched %, sessions per relationship, pairs, mean change.
    assert rows["Female"] == [9, 8, 89, 2.0, 8, 1.25]


def test_groups_of_fewer_than_eight_show_less_than_eight_and_nothing_derived(cast, groups):
    rows = table_rows(cast, "eq_sex")
    assert rows["Male"] == ["<8", None, None, None, None, None]
    assert rows["Not answered"] == ["<8", None, None, None, None, None]


def test_prefer_not_to_say_is_a_group_of_its_own(cast, groups):
    rows = table_rows(cast, "eq_sex")
    assert list(rows) == ["Female", "Male", "Prefer not to say", "Not answered"]
    assert rows["Prefer not to say"] == [8, 0, 0, None, 0, None]


def test_a_question_nobody_answered_puts_everyone_in_not_answered(cast, groups):
    rows = table_rows(cast, "eq_ethnic_group")
    assert rows["White"] == [0, None, None, None, None, None]
    # 11 of 22 matched; 19 sessions in 11 relationships; the women's 8 pairs.
    assert rows["Not answered"] == [22, 11, 50, 1.7, 8, 1.25]


def test_every_equity_question_of_the_starter_survey_has_a_table(cast, groups):
    with scope(organisation=cast.org):
        report = equity.build(cast.programme)
    assert [t.key for t in report.tables] == [f"equity-{code}" for code in EQUITY_CODES]
    assert report.missing == []


def test_a_small_count_inside_a_large_group_is_hidden_with_its_percentage(cast):
    for n in range(10):
        person = mentee(cast)
        respond(cast.programme, person, "starter", eq_ethnic_group="white", confidence_role=2)
        if n < 3:
            match(cast, person, sessions=4)
            respond(cast.programme, person, "closure", confidence_role=5)
    rows = table_rows(cast, "eq_ethnic_group")
    assert rows["White"] == [10, "<8", None, None, "<8", None]


def test_the_page_says_the_data_are_self_declared_and_hides_small_groups(client, cast, groups):
    client.force_login(cast.evaluator)
    page = client.get(url(cast))
    html = page.content.decode()
    assert page.status_code == 200
    assert "self-declared" in html and "optional" in html
    assert "What is your sex?" in html
    assert "&lt;8" in html
    assert "Mentee Person" not in html


def test_an_empty_programme_says_what_is_missing(client, cast):
    client.force_login(cast.owner)
    html = client.get(url(cast)).content.decode()
    assert "Not enough data yet" in html
    assert "No mentee has answered the starter survey yet, so there is no equity data." in html


def test_a_programme_without_the_questions_has_no_equity_data(client, cast):
    with scopes_disabled():
        version = latest_version(default_instrument(cast.programme, Instrument.Kind.MENTEE_STARTER))
        Question.objects.filter(section__version=version, code__startswith="eq_").delete()
    respond(cast.programme, mentee(cast), "starter", confidence_role=3)
    client.force_login(cast.owner)
    html = client.get(url(cast)).content.decode()
    assert "has no questions about the mentee" in html
    assert 'data-testid="table-equity-' not in html


def test_questions_left_blank_by_everyone_say_so(cast):
    respond(cast.programme, mentee(cast), "starter", confidence_role=3)
    with scope(organisation=cast.org):
        report = equity.build(cast.programme)
    assert report.missing == [
        "Nobody who answered the starter survey has answered the optional questions about "
        "themselves yet."
    ]


def test_the_starter_survey_submits_with_the_optional_section_left_blank(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    answer_all(client, invitation, STARTER_PAGES)
    page = client.get(page_url(invitation, 5)).content.decode()
    assert "About you (optional)" in page
    assert "used only in anonymised equity monitoring" in page
    blank = client.post(page_url(invitation, 5), {"action": "continue"})
    assert blank["Location"] == finish_url(invitation)
    done = client.post(finish_url(invitation), {"share_with_mentor": "no", "action": "submit"})
    assert done.status_code == 302
    saved = response_of(invitation)
    assert saved.submitted_at is not None
    assert not any(code.startswith("eq_") for code in saved.answers)
    assert table_rows(cast, "eq_sex")["Not answered"] == ["<8", None, None, None, None, None]


def test_the_report_runs_the_same_queries_however_many_responses(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.owner)
    for _ in range(2):
        respond(cast.programme, mentee(cast), "starter", eq_sex="female", confidence_role=2)
    with CaptureQueriesContext(connection) as few:
        client.get(url(cast))
    for n in range(40):
        person = mentee(cast)
        respond(cast.programme, person, "starter", via_invitation=n % 2 == 0,
                eq_sex="female", eq_age_band="30_39", confidence_role=2)  # fmt: skip
        match(cast, person, sessions=1)
        respond(cast.programme, person, "closure", confidence_role=3)
    with django_assert_max_num_queries(len(few)):
        assert client.get(url(cast)).status_code == 200
    assert len(few) <= 16


def test_the_demo_gives_the_pilot_groups_of_eight_with_pairs_to_compare(db):
    from django.core.management import call_command

    from demo import evaluation_equity
    from programmes.models import Programme

    call_command("seed_demo")
    with scopes_disabled():
        pilot = Programme.objects.get(name="WCA Legacy Mentor Pilot")
    evaluation_equity.seed(pilot)
    with scope(organisation=pilot.organisation):
        first = equity.build(pilot)
        responses = pilot.survey_responses.count()
    evaluation_equity.seed(pilot)
    with scope(organisation=pilot.organisation):
        again = equity.build(pilot)
        assert pilot.survey_responses.count() == responses
    assert [t.rows for t in again.tables] == [t.rows for t in first.tables]
    assert len(first.tables) == len(EQUITY_CODES)
    for table in first.tables:
        large = [row for row in table.rows if isinstance(row[1], int) and row[1] >= 8]
        assert len(large) >= 2, table.title
        assert any(row[6] is not None for row in large), table.title
