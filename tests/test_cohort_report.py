"""Cohort indicators: each figure on a small hand-checked programme, suppression below 8,
mentors and mentees apart, the definitions on the page and a bounded number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from demo import evaluation_cohorts
from evaluation.reports import cohort as report
from mentoring.models import Relationship
from mentoring.pseudonyms import mentee_key_for, mentor_key_for
from programmes.models import Application
from surveys.instruments import SUMMATIVE_CODES, default_instrument, latest_version
from surveys.models import Audience, Instrument, SurveyInvitation, SurveyResponse
from tests.factories import CohortFactory, MenteeFactory, MentorFactory, UserFactory
from tests.factories_matching import RelationshipFactory

pytestmark = pytest.mark.django_db

KIND_OF_WAVE = {
    "midpoint": (Instrument.Kind.MENTEE_MIDPOINT, Audience.MENTEE),
    "closure": (Instrument.Kind.MENTEE_CLOSURE, Audience.MENTEE),
    "mentor_interim": (Instrument.Kind.MENTOR_INTERIM, Audience.MENTOR),
    "mentor_closure": (Instrument.Kind.MENTOR_CLOSURE, Audience.MENTOR),
}
_versions: dict = {}


def version_for(programme, wave):
    key = (programme.pk, wave)
    if key not in _versions:
        with scopes_disabled():
            _versions[key] = latest_version(default_instrument(programme, KIND_OF_WAVE[wave][0]))
    return _versions[key]


@pytest.fixture(autouse=True)
def _fresh_versions():
    _versions.clear()


def pairs(programme, trust, cohort, count, *, mentor=None, role_title="Lung cancer CNS", days=0):
    """``count`` closed pairs in the cohort, each with its own mentor unless one is given."""
    made = []
    for _ in range(count):
        mentee = MenteeFactory(
            programme=programme, trust=trust, cohort=cohort, role_title=role_title
        )
        made.append(
            RelationshipFactory(
                mentee=mentee,
                mentor=mentor or MentorFactory(programme=programme, profession="Consultant nurse"),
                stage=Relationship.Stage.CLOSED,
                started_on=timezone.localdate() - datetime.timedelta(days=400 - days),
            )
        )
    return made


def invite(relationship, wave):
    audience = KIND_OF_WAVE[wave][1]
    organisation = relationship.programme.organisation
    if audience == Audience.MENTEE:
        person = {"mentee": relationship.mentee}
        pseudonym = mentee_key_for(organisation, relationship.mentee_id)
    else:
        person = {"mentor": relationship.mentor}
        pseudonym = mentor_key_for(organisation, relationship.mentor_id)
    with scopes_disabled():
        return SurveyInvitation.objects.create(
            programme=relationship.programme,
            version=version_for(relationship.programme, wave),
            wave=wave,
            audience=audience,
            relationship=relationship,
            email="someone@example.test",
            pseudonym=pseudonym,
            key=f"{wave}:{audience}:{relationship.pk}",
            due_on=timezone.localdate(),
            expires_on=timezone.localdate(),
            **person,
        )


def respond(invitation, **answers):
    with scopes_disabled():
        return SurveyResponse.objects.create(
            programme=invitation.programme,
            invitation=invitation,
            version=invitation.version,
            wave=invitation.wave,
            pseudonym=invitation.pseudonym,
            answers=answers,
            submitted_at=timezone.now(),
        )


def apply(programme, cohort, side, count, *, eligible=True, status="submitted"):
    with scopes_disabled():
        for _ in range(count):
            Application.objects.create(
                programme=programme,
                cohort=cohort,
                applicant=UserFactory(),
                side=side,
                eligible=eligible,
                status=status,
            )


def build(programme):
    with scope(organisation=programme.organisation):
        return report.build(programme)


def row(table, label):
    return next(r for r in table.rows if r[0] == label)


def column(table, name):
    return table.columns.index(name)


@pytest.fixture
def spring(cast):
    """A hand-checked cohort of 10 pairs, each with its own mentor, and every survey."""
    cohort = CohortFactory(programme=cast.programme, name="Spring cohort")
    made = pairs(cast.programme, cast.trust, cohort, 10)
    satisfaction = ["very_satisfied"] * 3 + ["satisfied"] * 3 + ["somewhat_satisfied"] * 2
    satisfaction += ["somewhat_dissatisfied", "dissatisfied"]
    objectives = ["all", "most", "some", "some", "most", "all", "all", "some", "none", ""]
    for n, relationship in enumerate(made):
        respond(
            invite(relationship, "closure"),
            satisfaction_match=satisfaction[n],
            objectives_met=objectives[n],
            trust_built_easily="yes",
            expectations_met="yes" if n < 8 else "partly",
            continuing_relationship="yes" if n < 4 else "not_sure",
            intend_to_mentor="no",
            interdisciplinary="yes" if n < 9 else "no",
            what_helped="Talking to Professor Quillfeather",
        )
        midpoint = invite(relationship, "midpoint")
        if n < 9:
            respond(midpoint, progress_goals="some")
        mentor_closure = invite(relationship, "mentor_closure")
        if n < 8:
            respond(
                mentor_closure,
                satisfaction_match="satisfied",
                will_mentor_again="yes",
                interdisciplinary="yes" if n < 5 else "no",
            )
        mentor_interim = invite(relationship, "mentor_interim")
        if n < 2:
            respond(mentor_interim, satisfaction_match="satisfied")
    apply(cast.programme, cohort, "mentee", 16)
    apply(cast.programme, cohort, "mentee", 4, eligible=False, status="declined")
    apply(cast.programme, cohort, "mentor", 9)
    return cohort


def test_every_summative_code_of_the_surveys_has_its_indicator():
    assert set(report.INDICATORS) == set(SUMMATIVE_CODES)


def test_closure_indicators_are_counted_over_those_who_answered_the_question(cast, spring):
    mentees = build(cast.programme).table("summative-mentee")
    spring_column = column(mentees, "Spring cohort")
    assert row(mentees, "Closure survey respondents")[spring_column] == 10
    assert row(mentees, "Satisfied with the match")[spring_column] == "80% (8 of 10)"
    # One left the objectives question blank: 8 of the 9 who answered met some or more.
    assert row(mentees, "Met all, most or some objectives")[spring_column] == "89% (8 of 9)"
    assert row(mentees, "Easily built trust")[spring_column] == "100% (10 of 10)"
    assert row(mentees, "Expectations were met")[spring_column] == "80% (8 of 10)"
    assert row(mentees, "Continuing the relationship")[spring_column] == "<8"
    assert row(mentees, "Intend to become a mentor")[spring_column] == "0% (0 of 10)"
    assert (
        row(mentees, "Describe the relationship as interdisciplinary")[spring_column]
        == "90% (9 of 10)"
    )


def test_mentors_and_mentees_are_counted_apart(cast, spring):
    built = build(cast.programme)
    mentees, mentors = built.table("summative-mentee"), built.table("summative-mentor")
    spring_column = column(mentors, "Spring cohort")
    assert row(mentors, "Closure survey respondents")[spring_column] == 8
    assert row(mentors, "Satisfied with the match")[spring_column] == "100% (8 of 8)"
    assert row(mentors, "Will mentor again")[spring_column] == "100% (8 of 8)"
    assert row(mentors, "Describe the relationship as interdisciplinary")[spring_column] == "<8"
    assert "Will mentor again" not in [r[0] for r in mentees.rows]
    assert "Intend to become a mentor" not in [r[0] for r in mentors.rows]

    rates = {role: built.table(f"responses-{role}") for role in ("mentee", "mentor")}
    assert row(rates["mentee"], "Interim (midpoint) survey: response rate")[spring_column] == (
        "90% (9 of 10)"
    )
    assert row(rates["mentee"], "Summative (closure) survey: response rate")[spring_column] == (
        "100% (10 of 10)"
    )
    assert row(rates["mentor"], "Summative (closure) survey: response rate")[spring_column] == (
        "80% (8 of 10)"
    )
    assert row(rates["mentor"], "Interim survey: response rate")[spring_column] == "<8"
    assert row(rates["mentor"], "Interim survey: people invited")[spring_column] == 10


def test_expressions_of_interest_and_oversubscription(cast, spring):
    interest = build(cast.programme).table("interest")
    spring_column = column(interest, "Spring cohort")
    assert row(interest, "Mentees: expressions of interest")[spring_column] == 20
    assert row(interest, "Mentees: eligible expressions of interest")[spring_column] == 16
    assert row(interest, "Mentors: eligible expressions of interest")[spring_column] == 9
    assert row(interest, "Places (mentees matched)")[spring_column] == 10
    assert row(interest, "Eligible mentee applicants per place")[spring_column] == "1.6 (16 for 10)"


def test_a_pair_that_ended_early_is_a_rematch_once_the_mentee_is_matched_again(cast):
    cohort = CohortFactory(programme=cast.programme, name="Autumn cohort")
    first, alone = pairs(cast.programme, cast.trust, cohort, 2)
    with scopes_disabled():
        Relationship.objects.filter(pk__in=[first.pk, alone.pk]).update(
            stage=Relationship.Stage.REMATCHED
        )
        RelationshipFactory(
            mentee=first.mentee,
            mentor=MentorFactory(programme=cast.programme),
            stage=Relationship.Stage.NAVIGATING,
            started_on=timezone.localdate(),
        )
        RelationshipFactory(
            mentee=MenteeFactory(programme=cast.programme, trust=cast.trust, cohort=cohort),
            mentor=first.mentor,
            stage=Relationship.Stage.DECLINED,
        )
    with scope(organisation=cast.org):
        figures = report.gather(cast.programme)
    assert figures.people.count(("pairs",), cohort.pk) == 3  # the declined match never ran
    assert figures.people.count(("ended_early",), cohort.pk) == 2
    assert figures.people.count(("rematched",), cohort.pk) == 1
    assert figures.people.count(("matched", "mentee"), cohort.pk) == 2


def test_a_small_cohort_is_suppressed_but_counts_in_the_total(cast, spring):
    small = CohortFactory(programme=cast.programme, name="Small cohort")
    for relationship in pairs(cast.programme, cast.trust, small, 3, days=30):
        respond(invite(relationship, "closure"), satisfaction_match="very_satisfied")
    built = build(cast.programme)
    mentees = built.table("summative-mentee")
    small_column, total = column(mentees, "Small cohort"), column(mentees, "All cohorts")
    assert row(mentees, "Closure survey respondents")[small_column] == "<8"
    assert row(mentees, "Satisfied with the match")[small_column] == "<8"
    assert row(mentees, "Satisfied with the match")[total] == "85% (11 of 13)"
    assert row(built.table("pairs"), "Matched pairs")[small_column] == "<8"
    assert row(built.table("pairs"), "Matched pairs")[total] == 13
    background = built.table("background-mentee")
    assert row(background, "Clinical nurse specialist")[small_column] == "<8"
    assert row(background, "Clinical nurse specialist")[total] == 13


def test_a_mentor_of_two_cohorts_counts_in_each_and_once_in_the_total(cast):
    first = CohortFactory(programme=cast.programme, name="First")
    second = CohortFactory(programme=cast.programme, name="Second")
    mentor = MentorFactory(programme=cast.programme)
    for relationship in pairs(cast.programme, cast.trust, first, 1, mentor=mentor) + pairs(
        cast.programme, cast.trust, second, 1, mentor=mentor
    ):
        invite(relationship, "mentor_closure")
    with scope(organisation=cast.org):
        figures = report.gather(cast.programme)
    for key in (first.pk, second.pk, report.ALL):
        assert figures.people.count(("matched", "mentor"), key) == 1
        assert figures.people.count(("invited", "mentor", "summative"), key) == 1


def test_an_answer_entered_without_an_invitation_finds_its_cohort_by_pseudonym(cast, spring):
    late = CohortFactory(programme=cast.programme, name="Late cohort")
    made = pairs(cast.programme, cast.trust, late, 8, days=60)
    with scopes_disabled():
        version = version_for(cast.programme, "closure")
        for relationship in made:
            SurveyResponse.objects.create(
                programme=cast.programme,
                version=version,
                wave="paper-closure",
                pseudonym=mentee_key_for(cast.org, relationship.mentee_id),
                answers={"satisfaction_match": "satisfied"},
                submitted_at=timezone.now(),
            )
    mentees = build(cast.programme).table("summative-mentee")
    assert row(mentees, "Satisfied with the match")[column(mentees, "Late cohort")] == (
        "100% (8 of 8)"
    )


def test_the_page_states_each_denominator_and_shows_no_names_or_free_text(client, cast, spring):
    client.force_login(cast.evaluator)
    page = client.get(reverse("evaluation:cohort", args=[cast.org.slug, cast.programme.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Response rate = responses ÷ people invited in that cohort and role" in html
    assert (
        "Closure respondents answering very satisfied, satisfied or somewhat satisfied ÷ "
        "closure respondents who answered the question"
    ) in html
    assert "eligible mentee expressions of interest ÷ places" in html
    assert "80% (8 of 10)" in html
    assert 'role="img"' in html and "Satisfied with the match 80% (8 of 10)" in html
    with scopes_disabled():
        names = list(cast.programme.mentees.values_list("full_name", flat=True))
    assert names and not any(name in html for name in names)
    assert "Quillfeather" not in html
    assert "Lung cancer CNS" not in html  # shown only as its group
    for anchor, _ in build(cast.programme).sections:
        assert f'id="{anchor}"' in html


def test_a_programme_with_no_cohorts_and_no_data_says_what_is_missing(client, cast):
    client.force_login(cast.owner)
    page = client.get(reverse("evaluation:cohort", args=[cast.org.slug, cast.programme.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "This programme does not run in cohorts" in html
    assert "All mentees" in html
    assert "No expressions of interest have been recorded for this programme." in html
    assert "No mentee has been matched with a mentor yet." in html
    assert "No closure survey has been answered yet." in html


def test_a_programme_without_cohorts_reports_all_mentees_as_one_column(cast):
    for relationship in pairs(cast.programme, cast.trust, None, 8):
        respond(invite(relationship, "closure"), satisfaction_match="satisfied")
    mentees = build(cast.programme).table("summative-mentee")
    assert mentees.columns == ["Indicator", "All mentees"]
    assert row(mentees, "Satisfied with the match") == [
        "Satisfied with the match",
        "100% (8 of 8)",
    ]


def three_cohorts(cast, per_cohort):
    for number in range(3):
        cohort = CohortFactory(programme=cast.programme, name=f"Cohort {number}")
        for n, relationship in enumerate(
            pairs(cast.programme, cast.trust, cohort, per_cohort, days=number)
        ):
            for wave in ("midpoint", "closure", "mentor_interim", "mentor_closure"):
                invitation = invite(relationship, wave)
                if n % 3:
                    respond(invitation, satisfaction_match="satisfied", trust_built_easily="yes")
        apply(cast.programme, cohort, "mentee", per_cohort)
        apply(cast.programme, cohort, "mentor", 2)


def queries_for_page(client, cast) -> int:
    url = reverse("evaluation:cohort", args=[cast.org.slug, cast.programme.pk])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_runs_the_same_queries_however_many_cohorts_and_pairs(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.evaluator)
    CohortFactory(programme=cast.programme, name="Only cohort")
    few = queries_for_page(client, cast)
    three_cohorts(cast, 12)
    many = queries_for_page(client, cast)
    assert many == few
    with django_assert_max_num_queries(18):
        client.get(reverse("evaluation:cohort", args=[cast.org.slug, cast.programme.pk]))


def test_the_demo_cohorts_give_figures_that_are_not_suppressed_and_seed_once(cast):
    evaluation_cohorts.seed(cast.programme)
    with scopes_disabled():
        counted = (
            cast.programme.relationships.count(),
            SurveyResponse.objects.filter(programme=cast.programme).count(),
            Application.objects.filter(programme=cast.programme).count(),
        )
    evaluation_cohorts.seed(cast.programme)
    with scopes_disabled():
        assert counted == (
            cast.programme.relationships.count(),
            SurveyResponse.objects.filter(programme=cast.programme).count(),
            Application.objects.filter(programme=cast.programme).count(),
        )
    built = build(cast.programme)
    pairs_table = built.table("pairs")
    total = column(pairs_table, "All cohorts")
    assert 60 <= row(pairs_table, "Matched pairs")[total] <= 80
    for name in ("First cohort", "Second cohort", "Third cohort"):
        index = column(pairs_table, name)
        assert isinstance(row(pairs_table, "Matched pairs")[index], int)
        summative = built.table("summative-mentee")
        assert "%" in row(summative, "Satisfied with the match")[index]
        responses = built.table("responses-mentor")
        assert "%" in row(responses, "Summative (closure) survey: response rate")[index]
    mentors = built.table("summative-mentor")
    assert "%" in row(mentors, "Satisfied with the match")[total]
    assert row(pairs_table, "Pairs that ended early")[total] == "<8"
    assert not built.missing
