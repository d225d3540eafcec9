"""The programme dashboard: every figure on a small data set worked out by hand, "<8"
in a trust's small cells, mentors by pseudonym only, and a page that says what is
missing and runs the same queries however many mentees there are."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from evaluation.reports import dashboard
from mentoring.models import Mentee, Relationship, SessionLog
from surveys.instruments import default_instrument, latest_version
from surveys.models import Instrument, SurveyInvitation

from .factories import MenteeFactory, MentorFactory, UserFactory
from .factories_matching import RelationshipFactory

pytestmark = pytest.mark.django_db

# The day the figures are worked out for: every date below is fixed against it.
TODAY = datetime.date(2025, 6, 30)
IDENTIFIED = timezone.make_aware(datetime.datetime(2025, 3, 1, 10, 0))
# The eight active mentees of the home trust were matched 2, 4, ... 16 days after
# being identified, and have 1, 1, 2, 2, 3, 3, 4 and 0 hour-long sessions.
DAYS_TO_MATCH = [2, 4, 6, 8, 10, 12, 14, 16]
SESSIONS = [1, 1, 2, 2, 3, 3, 4, 0]
RECENT = datetime.date(2025, 6, 20)
LONG_AGO = datetime.date(2025, 4, 20)  # 71 days before TODAY: past the 45 inactivity days


def url(cast, name="evaluation:dashboard"):
    return reverse(name, args=[cast.org.slug, cast.programme.pk])


def log_sessions(relationship, count, held_on):
    with scopes_disabled():
        for _ in range(count):
            entry = SessionLog.objects.create(
                programme=relationship.programme,
                mentor=relationship.mentor,
                held_on=held_on,
                duration_minutes=60,
                method=SessionLog.Method.VIDEO,
                summary="Talked through the week.",
            )
            entry.relationships.add(relationship)


def invite(programme, mentee, wave, *, due_on, completed=False, number=0):
    with scopes_disabled():
        version = latest_version(default_instrument(programme, Instrument.Kind.MENTEE_STARTER))
        return SurveyInvitation.objects.create(
            programme=programme,
            version=version,
            wave=wave,
            audience="mentee",
            mentee=mentee,
            email=mentee.email,
            pseudonym=f"ME-{mentee.pk}",
            key=f"{wave}:mentee:{mentee.pk}:{number}",
            due_on=due_on,
            expires_on=due_on + datetime.timedelta(days=28),
            completed_at=timezone.now() if completed else None,
        )


@pytest.fixture
def programme_data(cast):
    """Ten mentees in the home trust, two in the coastal trust, two mentors."""
    active = []
    for n, (days, sessions) in enumerate(zip(DAYS_TO_MATCH, SESSIONS, strict=True)):
        mentee = MenteeFactory(
            programme=cast.programme,
            trust=cast.trust,
            status=Mentee.Status.ACTIVE,
            identified_at=IDENTIFIED,
        )
        relationship = RelationshipFactory(
            mentor=cast.mentor_record,
            mentee=mentee,
            stage=Relationship.Stage.NAVIGATING,
            started_on=IDENTIFIED.date() + datetime.timedelta(days=days),
        )
        log_sessions(relationship, sessions, LONG_AGO if n == 6 else RECENT)
        active.append(relationship)
    MenteeFactory(programme=cast.programme, trust=cast.trust, status=Mentee.Status.WITHDRAWN)
    coastal_mentor = MentorFactory(
        programme=cast.programme,
        user=UserFactory(full_name="Coastal Mentor Person"),
        trust=cast.other_trust_same_org,
        accepting_new=False,
    )
    closed = MenteeFactory(
        programme=cast.programme,
        trust=cast.other_trust_same_org,
        status=Mentee.Status.CLOSED,
        identified_at=timezone.make_aware(datetime.datetime(2024, 10, 1, 9, 0)),
    )
    RelationshipFactory(
        mentor=coastal_mentor,
        mentee=closed,
        stage=Relationship.Stage.CLOSED,
        started_on=datetime.date(2024, 11, 20),  # 50 days after being identified
        ended_on=datetime.date(2025, 5, 1),
    )
    # A request the mentor declined is no match.
    RelationshipFactory(
        mentor=coastal_mentor,
        mentee=cast.mentee_other_trust,
        stage=Relationship.Stage.DECLINED,
        started_on=datetime.date(2025, 1, 10),
    )
    # Ten starter invitations (8 answered, 1 overdue, 1 expired) and two midpoints not due.
    for n, relationship in enumerate(active):
        invite(cast.programme, relationship.mentee, "starter", due_on=RECENT, completed=True)
        if n < 2:
            invite(
                cast.programme,
                relationship.mentee,
                "midpoint",
                due_on=TODAY.replace(day=10, month=7),
            )
    invite(cast.programme, cast.mentee_record, "starter", due_on=RECENT)
    invite(cast.programme, closed, "starter", due_on=datetime.date(2025, 5, 1))
    return {"active": active, "coastal_mentor": coastal_mentor}


def tables(cast):
    with scope(organisation=cast.org):
        built, _ = dashboard.build_tables(cast.programme, TODAY)
    return {table.key: table for table in built}


def rows(table):
    return {row[0]: row[1:] for row in table.rows}


def test_enrolment_counts_mentees_by_trust_and_status_with_small_cells_hidden(cast, programme_data):
    enrolment = rows(tables(cast)["enrolment"])
    # Identified, awaiting match, matched, active, closed, withdrawn, all.
    assert enrolment["Home General Hospital"] == ["<8", 0, 0, 8, 0, "<8", 10]
    assert enrolment["Home Coastal Hospital"] == ["<8", 0, 0, 0, "<8", 0, "<8"]
    assert enrolment["Whole programme"] == [2, 0, 0, 8, 1, 1, 12]


def test_mentors_are_counted_by_whether_they_take_new_mentees(cast, programme_data):
    mentors = rows(tables(cast)["mentors"])
    assert mentors["Home General Hospital"] == ["<8", 0, "<8"]
    assert mentors["Home Coastal Hospital"] == [0, "<8", "<8"]
    assert mentors["Whole programme"] == [1, 1, 2]


def test_match_rate_is_matched_of_identified_as_a_whole_percentage(cast, programme_data):
    match = rows(tables(cast)["match-rate"])
    assert match["Home General Hospital"] == [8, 10, 80]
    # The declined request is no match; too few to give a percentage.
    assert match["Home Coastal Hospital"] == ["<8", "<8", None]
    assert match["Whole programme"] == [9, 12, 75]


def test_time_to_match_gives_the_median_and_range_in_days(cast, programme_data):
    times = rows(tables(cast)["time-to-match"])
    assert times["Home General Hospital"] == [8, 9.0, 2, 16]
    assert times["Home Coastal Hospital"] == ["<8", None, None, None]
    assert times["Whole programme"] == [9, 10, 2, 50]


def test_engagement_counts_sessions_and_hours_per_active_relationship(cast, programme_data):
    engagement = rows(tables(cast)["engagement"])
    assert engagement["Home General Hospital"] == [8, 16, 2.0, 16.0, 2.0]
    assert engagement["Home Coastal Hospital"] == [0, None, None, None, None]
    assert engagement["Whole programme"] == [8, 16, 2.0, 16.0, 2.0]


def test_engagement_of_a_trust_with_few_relationships_shows_no_averages(cast):
    mentee = MenteeFactory(programme=cast.programme, trust=cast.trust, status="active")
    relationship = RelationshipFactory(
        mentor=cast.mentor_record, mentee=mentee, stage=Relationship.Stage.NAVIGATING
    )
    log_sessions(relationship, 3, RECENT)
    engagement = rows(tables(cast)["engagement"])
    assert engagement["Home General Hospital"] == ["<8", None, None, None, None]
    assert engagement["Whole programme"] == [1, 3, 3.0, 3.0, 3.0]


def test_needs_attention_uses_the_programmes_inactivity_days(cast, programme_data):
    attention = rows(tables(cast)["needs-attention"])
    # The relationship without a session and the one quiet since April.
    assert attention["Home General Hospital"] == [8, "<8"]
    assert attention["Whole programme"] == [8, 2]
    with scopes_disabled():
        cast.programme.inactivity_days = 120
        cast.programme.save()
    assert rows(tables(cast)["needs-attention"])["Whole programme"] == [8, 0]


def test_caseloads_count_mentors_by_mentees_matched_in_the_last_year_against_the_target(
    cast, programme_data
):
    caseloads = tables(cast)["caseloads"]
    # Counted as the matching pages count a caseload (the last 12 months, declined requests
    # left out): the home mentor matched 8 (the target); the coastal mentor 1, the pair
    # that closed, and not the request they declined.
    assert caseloads.rows == [
        ["None", 0, 0],
        ["1 to 4", 1, 0],
        ["5 to 7", 0, 0],
        ["8 or more (target)", 1, 8],
    ]


def test_the_caseload_bands_reach_the_target_whatever_it_is():
    from evaluation.reports.dashboard import caseload_bands

    assert caseload_bands(8) == [
        ("None", 0, 0),
        ("1 to 4", 1, 4),
        ("5 to 7", 5, 7),
        ("8 or more (target)", 8, None),
    ]
    assert caseload_bands(2) == [("None", 0, 0), ("1", 1, 1), ("2 or more (target)", 2, None)]
    assert caseload_bands(1) == [("None", 0, 0), ("1 or more (target)", 1, None)]


def test_overdue_surveys_are_counted_by_wave_and_always_suppressed(cast, programme_data):
    surveys = rows(tables(cast)["overdue-surveys"])
    # Invited, completed, overdue with the link open, expired unanswered.
    assert surveys["Starter"] == [10, 8, "<8", "<8"]
    assert surveys["Midpoint"] == ["<8", 0, 0, 0]
    assert surveys["Whole programme"] == [12, 8, "<8", "<8"]


def test_the_page_shows_pseudonyms_and_charts_never_names(client, cast, programme_data):
    client.force_login(cast.evaluator)
    page = client.get(url(cast))
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("Coastal Mentor Person", "Mentee Person", "Home Mentee", "mentor@home.test"):
        assert name not in html
    assert 'role="img"' in html and "<title" in html
    assert "&lt;8" in html
    assert 'id="caseloads"' in html


def test_an_empty_programme_says_what_is_missing(client, cast):
    with scopes_disabled():
        Mentee.objects.filter(programme=cast.programme).delete()
        cast.mentor_record.delete()
    client.force_login(cast.owner)
    html = client.get(url(cast)).content.decode()
    assert "Not enough data yet" in html
    assert "No mentee has been identified in this programme yet." in html
    assert "No mentor has joined this programme yet." in html
    assert "No survey invitation has been made yet." in html


def test_another_organisations_programme_is_not_found(client, cast):
    client.force_login(cast.owner)
    other = reverse("evaluation:dashboard", args=[cast.org.slug, cast.other_programme.pk])
    assert client.get(other).status_code == 404


def add_mentees(cast, count, start):
    for n in range(start, start + count):
        mentor = MentorFactory(programme=cast.programme, trust=cast.trust)
        mentee = MenteeFactory(programme=cast.programme, trust=cast.trust, status="active")
        relationship = RelationshipFactory(
            mentor=mentor, mentee=mentee, stage=Relationship.Stage.NAVIGATING
        )
        log_sessions(relationship, 2, RECENT)
        invite(cast.programme, mentee, "starter", due_on=RECENT, completed=n % 2 == 0, number=n)


def test_the_page_runs_the_same_queries_however_many_mentees(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.owner)
    add_mentees(cast, 2, 0)
    with CaptureQueriesContext(connection) as few:
        client.get(url(cast))
    add_mentees(cast, 30, 2)
    with django_assert_max_num_queries(len(few)):
        assert client.get(url(cast)).status_code == 200
    assert len(few) <= 20
