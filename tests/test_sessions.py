"""The session log (with group sessions), who reads it, and the mentor's revalidation evidence.

The cast's mentor mentors the cast's mentee (in the colleague lead nurse's trust) and
two more mentees in the same programme; a second mentor mentors someone else. The
log is shared with managers only when the pair's signed agreement says so.
"""

import datetime
import io
import re
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from PIL import Image

from mentoring.models import (
    Agreement,
    Relationship,
    SessionAction,
    SessionLog,
    SessionRecord,
)
from mentoring.services_sessions import initials
from programmes.models import AuditEvent, Programme, Role

from .conftest import enable_totp
from .factories import MembershipFactory, MenteeFactory, MentorFactory, UserFactory
from .factories_matching import RelationshipFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
SUMMARY = "Talked about prioritising the clinic list and the MDT preparation."


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


def days_ago(days: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=days)


@pytest.fixture
def pair(cast):
    """The cast's mentor and mentee, a few months in."""
    return RelationshipFactory(
        mentee=cast.mentee_record,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.NAVIGATING,
        started_on=days_ago(120),
    )


@pytest.fixture
def others(cast, pair):
    """More relationships: two more of the cast's mentor's, one closed, one of another mentor."""
    mentee = lambda name, trust: MenteeFactory(  # noqa: E731
        programme=cast.programme, trust=trust, full_name=name, email=f"{name.split()[0]}@t.test"
    )
    second_mentor = MentorFactory(
        programme=cast.programme,
        user=UserFactory(email="second.mentor@home.test", full_name="Second Mentor"),
        trust=cast.trust,
    )
    return {
        "coastal": RelationshipFactory(
            mentee=cast.mentee_other_trust,
            mentor=cast.mentor_record,
            stage=Relationship.Stage.GETTING_STARTED,
            started_on=days_ago(60),
        ),
        "hill": RelationshipFactory(
            mentee=mentee("Hilda Hill", cast.trust),
            mentor=cast.mentor_record,
            stage=Relationship.Stage.NAVIGATING,
            started_on=days_ago(90),
        ),
        "closed": RelationshipFactory(
            mentee=mentee("Cleo Closed", cast.trust),
            mentor=cast.mentor_record,
            stage=Relationship.Stage.CLOSED,
            started_on=days_ago(300),
            ended_on=days_ago(10),
        ),
        "theirs": RelationshipFactory(
            mentee=mentee("Tara Theirs", cast.trust),
            mentor=second_mentor,
            stage=Relationship.Stage.NAVIGATING,
            started_on=days_ago(90),
        ),
    }


def share(relationship, shared=True):
    """Both sign an agreement that does (or does not) share the log with managers."""
    now = timezone.now()
    with scopes_disabled():
        version = relationship.agreements.count() + 1
        return Agreement.objects.create(
            relationship=relationship,
            version=version,
            goals="Grow in the role",
            meeting_frequency="Monthly",
            meeting_duration="An hour",
            evaluation_period="12 months",
            progress_recording="The session log",
            confidentiality="Confidential",
            shared_with_lead_nurse=shared,
            mentor_signed_name="M",
            mentor_signed_at=now,
            mentee_signed_name="E",
            mentee_signed_at=now,
        )


def log(relationship, *, days=7, minutes=60, method=SessionLog.Method.VIDEO, summary=SUMMARY,
        also=(), actions=(), themes=("workload",)):  # fmt: skip
    with scopes_disabled():
        entry = SessionLog.objects.create(
            programme=relationship.programme,
            mentor=relationship.mentor,
            held_on=days_ago(days),
            duration_minutes=minutes,
            method=method,
            summary=summary,
            themes=list(themes),
        )
        entry.relationships.add(relationship, *also)
        for what, who in actions:
            SessionAction.objects.create(log=entry, what=what, who=who)
    return entry


def session_data(**overrides):
    day = days_ago(3)
    data = {
        "held_on_day": str(day.day),
        "held_on_month": str(day.month),
        "held_on_year": str(day.year),
        "duration_hours": "1",
        "duration_minutes": "30",
        "method": "face_to_face",
        "summary": SUMMARY,
        "themes": ["workload", "mdt"],
        "actions-TOTAL_FORMS": "3",
        "actions-INITIAL_FORMS": "3",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "20",
        "actions-0-what": "Shadow the MDT coordinator",
        "actions-0-who": "Mentee",
        "actions-0-due_on_day": "30",
        "actions-0-due_on_month": "4",
        "actions-0-due_on_year": str(TODAY().year + 1),
        "actions-1-what": "",
        "actions-1-who": "",
        "actions-2-what": "",
        "actions-2-who": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def entries_of(relationship):
    with scopes_disabled():
        return list(relationship.session_logs.order_by("pk"))


def audit_rows(cast):
    with scope(organisation=cast.org):
        return list(AuditEvent.objects.order_by("pk"))


# --- Logging a session ------------------------------------------------------------------


def test_the_mentor_logs_a_session_with_actions_and_themes(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(url("sessions_log_add", pair.pk), session_data())
    assert response.status_code == 302
    assert response["Location"] == url("sessions_log", pair.pk)
    [entry] = entries_of(pair)
    assert entry.held_on == days_ago(3)
    assert entry.duration_minutes == 90
    assert entry.method == SessionLog.Method.FACE_TO_FACE
    assert entry.summary == SUMMARY
    assert entry.themes == ["workload", "mdt"]
    assert entry.mentor == cast.mentor_record
    with scopes_disabled():
        [action] = entry.actions.all()
    assert (action.what, action.who) == ("Shadow the MDT coordinator", "Mentee")
    assert action.due_on == datetime.date(TODAY().year + 1, 4, 30)

    event = audit_rows(cast)[-1]
    assert event.action == AuditEvent.Action.CREATE
    assert event.object_type == "sessionlog" and event.object_id == str(entry.pk)
    assert set(event.fields) >= {"held_on", "duration", "method", "summary", "actions"}
    assert SUMMARY not in event.object_label
    page = client.get(response["Location"]).content.decode()
    assert "Session logged." in page
    assert "Shadow the MDT coordinator" in page


def test_the_log_form_shows_the_pilots_words_and_the_patient_data_reminder(client, cast, pair):
    client.force_login(cast.mentor)
    page = client.get(url("sessions_log_add", pair.pk)).content.decode()
    for words in [
        "Discussion or activity summary",
        "Objectives, progress, development areas, advice given, questions asked, tools used.",
        "Do not include anything that could identify a patient.",
        "Actions and follow up",
        "Face to face",
        "Video call",
        "Group session",
        "Prioritising workload and time management",
        "Hours",
        "Minutes",
    ]:
        assert words in page
    assert page.count("By when") >= 3


def test_a_duration_may_be_given_in_minutes_alone(client, cast, pair):
    client.force_login(cast.mentor)
    client.post(
        url("sessions_log_add", pair.pk),
        session_data(duration_hours="", duration_minutes="45"),
    )
    assert [e.duration_minutes for e in entries_of(pair)] == [45]


@pytest.mark.parametrize(
    ("hours", "minutes", "message"),
    [
        ("", "", "Enter how long the session lasted"),
        ("0", "0", "The session must last at least 1 minute"),
        ("10", "1", "The session must last 10 hours (600 minutes) or less"),
        ("", "601", "The session must last 10 hours (600 minutes) or less"),
        ("one", "", "Hours must be a whole number"),
        ("", "half", "Minutes must be a whole number"),
    ],
)
def test_a_bad_duration_is_refused_and_what_was_typed_kept(
    client, cast, pair, hours, minutes, message
):
    client.force_login(cast.mentor)
    response = client.post(
        url("sessions_log_add", pair.pk),
        session_data(duration_hours=hours, duration_minutes=minutes),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'href="#id_duration_hours"' in page
    assert SUMMARY in page
    assert "Shadow the MDT coordinator" in page
    assert entries_of(pair) == []


def test_a_session_cannot_be_in_the_future(client, cast, pair):
    client.force_login(cast.mentor)
    tomorrow = days_ago(-1)
    response = client.post(
        url("sessions_log_add", pair.pk),
        session_data(
            held_on_day=str(tomorrow.day),
            held_on_month=str(tomorrow.month),
            held_on_year=str(tomorrow.year),
        ),
    )
    assert "Date of the session must be the same as or before" in response.content.decode()
    assert entries_of(pair) == []


def test_missing_answers_get_nhs_style_messages(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(
        url("sessions_log_add", pair.pk),
        session_data(held_on_day="", held_on_month="", held_on_year="", method="", summary=" "),
    )
    page = response.content.decode()
    assert "Enter date of the session" in page
    assert "Select how the session was held" in page
    assert "Enter a summary of the discussion or activity" in page
    assert entries_of(pair) == []


def test_a_half_filled_action_row_says_what_is_missing(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(
        url("sessions_log_add", pair.pk),
        session_data(**{"actions-1-what": "Book a PNA session", "actions-1-who": ""}),
    )
    page = response.content.decode()
    assert "Enter who is responsible for action 2" in page
    assert 'href="#id_actions-1-who"' in page
    assert entries_of(pair) == []


def test_add_another_action_shows_one_more_row_keeping_what_was_typed(client, cast, pair, others):
    client.force_login(cast.mentor)
    response = client.post(
        url("sessions_log_add", pair.pk),
        session_data(
            summary="Half typed",
            duration_hours="",
            method="group",
            others=[str(others["hill"].pk)],
            add_action="1",
        ),
    )
    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.total_form_count() == 4
    page = response.content.decode()
    assert "Half typed" in page
    assert "Shadow the MDT coordinator" in page
    assert 'name="actions-3-what"' in page
    assert response.context["form"]["others"].value() == [str(others["hill"].pk)]
    assert re.search(rf'name="others" value="{others["hill"].pk}"[^>]*checked', page)
    assert re.search(r'name="method" value="group"[^>]*checked', page)
    assert entries_of(pair) == []

    # Saving from the grown form keeps all four rows' worth.
    data = session_data(
        **{
            "actions-TOTAL_FORMS": "4",
            "actions-INITIAL_FORMS": "4",
            "actions-3-what": "Read the ACCEND framework",
            "actions-3-who": "Both",
        }
    )
    assert client.post(url("sessions_log_add", pair.pk), data).status_code == 302
    [entry] = entries_of(pair)
    with scopes_disabled():
        assert [a.what for a in entry.actions.all()] == [
            "Shadow the MDT coordinator",
            "Read the ACCEND framework",
        ]


# --- Group sessions -------------------------------------------------------------------


def test_a_group_session_is_logged_once_for_several_mentees(client, cast, pair, others):
    client.force_login(cast.mentor)
    form = client.get(url("sessions_log_add", pair.pk)).context["form"]
    offered = set(form.fields["others"].queryset)
    assert offered == {others["coastal"], others["hill"]}  # not closed, not another mentor's

    response = client.post(
        url("sessions_log_add", pair.pk),
        session_data(method="group", others=[str(others["coastal"].pk), str(others["hill"].pk)]),
    )
    assert response.status_code == 302
    with scopes_disabled():
        [entry] = SessionLog.objects.all()
        assert set(entry.relationships.all()) == {pair, others["coastal"], others["hill"]}
    assert entries_of(others["hill"]) == [entry]


def test_other_mentees_need_the_group_method(client, cast, pair, others):
    client.force_login(cast.mentor)
    response = client.post(
        url("sessions_log_add", pair.pk),
        session_data(method="video", others=[str(others["hill"].pk)]),
    )
    assert "Select group session as the method" in response.content.decode()
    assert entries_of(pair) == []


def test_relationships_that_are_not_offered_cannot_be_added_to_a_group(client, cast, pair, others):
    client.force_login(cast.mentor)
    for outsider in (others["closed"], others["theirs"]):
        response = client.post(
            url("sessions_log_add", pair.pk),
            session_data(method="group", others=[str(outsider.pk)]),
        )
        assert "Select mentees from the list" in response.content.decode()
    with scopes_disabled():
        assert not SessionLog.objects.exists()


def test_a_mentor_with_one_mentee_is_not_asked_about_a_group(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.get(url("sessions_log_add", pair.pk))
    assert "others" not in response.context["form"].fields
    assert "Also in this session" not in response.content.decode()


def test_group_members_are_named_only_to_the_mentor(client, cast, pair, others):
    share(pair)
    log(pair, method=SessionLog.Method.GROUP, also=[others["hill"]])

    client.force_login(cast.mentor)
    page = client.get(url("sessions_log", pair.pk)).content.decode()
    assert "Also with Hilda Hill" in page

    for person in ("mentee", "colleague", "owner"):
        client.force_login(getattr(cast, person))
        for address in (url("sessions_log", pair.pk), url("relationship_detail", pair.pk)):
            page = client.get(address).content.decode()
            assert "Group session (2 mentees)" in page, (person, address)
            assert "Hilda Hill" not in page, (person, address)


# --- Changing and deleting --------------------------------------------------------------


def test_the_mentor_changes_an_entry_and_the_audit_names_the_fields(client, cast, pair):
    entry = log(pair, actions=[("Old action", "Mentee")])
    client.force_login(cast.mentor)
    form = client.get(url("sessions_log_edit", pair.pk, entry.pk)).context["form"]
    assert form["duration"].value() == 60
    data = session_data(
        summary="A new summary",
        method="video",
        duration_hours="",
        duration_minutes="60",
        **{
            "actions-TOTAL_FORMS": "2",
            "actions-INITIAL_FORMS": "2",
            "actions-0-what": "Old action",
            "actions-0-who": "Mentee",
            "actions-0-done": "on",
            "actions-0-due_on_day": "",
            "actions-0-due_on_month": "",
            "actions-0-due_on_year": "",
        },
    )
    response = client.post(url("sessions_log_edit", pair.pk, entry.pk), data)
    assert response.status_code == 302
    with scopes_disabled():
        entry.refresh_from_db()
        [action] = entry.actions.all()
    assert entry.summary == "A new summary"
    assert entry.held_on == days_ago(3)
    assert action.done
    event = audit_rows(cast)[-1]
    assert event.action == AuditEvent.Action.CHANGE
    assert set(event.fields) == {"held_on", "summary", "themes", "actions"}
    assert "A new summary" not in str(event.__dict__)


def test_the_mentor_deletes_an_entry_after_confirming(client, cast, pair):
    entry = log(pair)
    client.force_login(cast.mentor)
    page = client.get(url("sessions_log_delete", pair.pk, entry.pk)).content.decode()
    assert "Delete the session on" in page
    response = client.post(url("sessions_log_delete", pair.pk, entry.pk))
    assert response.status_code == 302
    assert entries_of(pair) == []
    assert audit_rows(cast)[-1].action == AuditEvent.Action.DELETE


def test_deleting_a_group_session_warns_it_leaves_every_log(client, cast, pair, others):
    entry = log(pair, method=SessionLog.Method.GROUP, also=[others["hill"]])
    client.force_login(cast.mentor)
    page = client.get(url("sessions_log_delete", pair.pk, entry.pk)).content.decode()
    assert "removes it from the log of every mentee in it" in page
    assert "Hilda Hill" in page
    client.post(url("sessions_log_delete", pair.pk, entry.pk))
    assert entries_of(others["hill"]) == []


def test_an_entry_is_reached_only_through_its_own_relationship(client, cast, pair, others):
    elsewhere = log(others["hill"])
    client.force_login(cast.mentor)
    for name in ("sessions_log_edit", "sessions_log_delete"):
        assert client.get(url(name, pair.pk, elsewhere.pk)).status_code == 404
        assert client.post(url(name, pair.pk, elsewhere.pk)).status_code == 404
    assert entries_of(others["hill"]) == [elsewhere]


@pytest.mark.parametrize("person", ["mentee", "owner", "colleague", "evaluator"])
def test_only_the_mentor_changes_the_log(client, cast, pair, person):
    share(pair)
    entry = log(pair)
    client.force_login(getattr(cast, person))
    assert client.post(url("sessions_log_add", pair.pk), session_data()).status_code == 404
    assert (
        client.post(url("sessions_log_edit", pair.pk, entry.pk), session_data()).status_code == 404
    )
    assert client.post(url("sessions_log_delete", pair.pk, entry.pk)).status_code == 404
    assert entries_of(pair) == [entry]
    with scopes_disabled():
        entry.refresh_from_db()
    assert entry.duration_minutes == 60


def test_another_mentor_cannot_log_for_someone_elses_mentee(client, cast, pair, others):
    client.force_login(others["theirs"].mentor.user)
    MembershipFactory(organisation=cast.org, user=others["theirs"].mentor.user, role=Role.MENTOR)
    assert client.get(url("sessions_log_add", pair.pk)).status_code == 404
    assert client.get(url("sessions_log", pair.pk)).status_code == 404


# --- Who reads the log ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "unshared", "shared"),
    [
        ("mentor", 200, 200),
        ("mentee", 200, 200),
        ("owner", 404, 200),
        ("colleague", 404, 200),
        ("lead_without_trusts", 404, 404),
        ("evaluator", 404, 404),
    ],
)
def test_managers_read_the_log_only_when_the_pair_share_it(
    client, cast, pair, person, unshared, shared
):
    log(pair)
    client.force_login(getattr(cast, person))
    assert client.get(url("sessions_log", pair.pk)).status_code == unshared
    share(pair, shared=False)
    assert client.get(url("sessions_log", pair.pk)).status_code == unshared
    share(pair, shared=True)
    response = client.get(url("sessions_log", pair.pk))
    assert response.status_code == shared
    if shared == 200:
        assert SUMMARY in response.content.decode()


def test_an_unsigned_agreement_does_not_share_the_log(client, cast, pair):
    log(pair)
    agreement = share(pair)
    with scopes_disabled():
        Agreement.objects.filter(pk=agreement.pk).update(mentee_signed_at=None)
    client.force_login(cast.colleague)
    assert client.get(url("sessions_log", pair.pk)).status_code == 404


def test_a_lead_nurse_of_another_trust_never_reads_the_log(client, cast, pair):
    share(pair)
    lead = UserFactory(email="coastal.lead@home.test")
    MembershipFactory(
        organisation=cast.org, user=lead, role=Role.LEAD_NURSE, trusts=[cast.other_trust_same_org]
    )
    enable_totp(lead)
    client.force_login(lead)
    assert client.get(url("sessions_log", pair.pk)).status_code == 404


def test_the_log_lists_every_entry_newest_first_with_totals(client, cast, pair):
    log(pair, days=40, minutes=45, summary="First meeting")
    log(pair, days=10, minutes=90, summary="Latest meeting")
    log(pair, days=25, minutes=30, summary="Middle meeting")
    client.force_login(cast.mentee)
    response = client.get(url("sessions_log", pair.pk))
    page = response.content.decode()
    assert page.index("Latest meeting") < page.index("Middle meeting") < page.index("First meeting")
    assert response.context["totals"].sessions == 3
    assert "2.8 hours" in page  # 165 minutes
    assert days_ago(10).strftime("%B %Y") in page
    assert "Log a session" not in page  # the mentee reads only
    event = audit_rows(cast)[-1]
    assert (event.action, event.object_type, event.object_label) == (
        AuditEvent.Action.VIEW,
        "session log",
        "Session log",
    )


# --- The relationship page's panel ------------------------------------------------------


def test_the_panel_shows_managers_counts_only_when_the_log_is_not_shared(client, cast, pair):
    for days in (50, 30, 20, 10):
        log(pair, days=days)
    client.force_login(cast.colleague)
    response = client.get(url("relationship_detail", pair.pk))
    page = response.content.decode()
    panel = response.context["sessions_panel"]
    assert panel["totals"].sessions == 4
    assert panel["recent"] == []
    assert "4 hours" in page
    assert days_ago(10).strftime("%B %Y") in page
    assert url("sessions_log", pair.pk) not in page
    assert "Latest sessions" not in page
    assert "Session record" not in page


def test_the_panel_shows_the_last_three_sessions_to_those_who_read_the_log(client, cast, pair):
    for days in (50, 30, 20, 10):
        log(pair, days=days)
    share(pair)
    for person in ("mentor", "mentee", "colleague"):
        client.force_login(getattr(cast, person))
        response = client.get(url("relationship_detail", pair.pk))
        recent = response.context["sessions_panel"]["recent"]
        assert [e.held_on for e in recent] == [days_ago(10), days_ago(20), days_ago(30)]
        assert url("sessions_log", pair.pk) in response.content.decode()


def test_the_mentor_is_offered_to_log_a_session_from_the_panel(client, cast, pair):
    client.force_login(cast.mentor)
    page = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert url("sessions_log_add", pair.pk) in page
    assert url("sessions_record_add", pair.pk) in page
    assert url("sessions_revalidation") in page


def test_the_panel_says_a_quiet_relationship_needs_attention(client, cast, pair):
    log(pair, days=60)
    client.force_login(cast.colleague)
    page = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert "Needs attention" in page
    assert "No session has been logged for 60 days" in page

    log(pair, days=5)
    page = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert "Needs attention" not in page


def test_a_relationship_without_sessions_counts_from_its_start(client, cast, pair):
    with scope(organisation=cast.org):
        Programme.objects.filter(pk=cast.programme.pk).update(inactivity_days=100)
    client.force_login(cast.mentor)
    page = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert "No session has been logged for 120 days" in page


# --- Closed relationships ---------------------------------------------------------------


def test_a_closed_relationships_log_is_read_only(client, cast, pair, others):
    closed = others["closed"]
    entry = log(closed)
    client.force_login(cast.mentor)
    for name, args in [
        ("sessions_log_add", [closed.pk]),
        ("sessions_log_edit", [closed.pk, entry.pk]),
        ("sessions_log_delete", [closed.pk, entry.pk]),
    ]:
        response = client.post(url(name, *args), session_data(summary="Changed"), follow=True)
        assert response.redirect_chain[-1][0] == url("sessions_log", closed.pk)
        assert "This relationship has ended" in response.content.decode()
    assert entries_of(closed) == [entry]
    with scopes_disabled():
        entry.refresh_from_db()
    assert entry.summary == SUMMARY
    page = client.get(url("sessions_log", closed.pk)).content.decode()
    assert "read-only" in page
    assert url("sessions_log_add", closed.pk) not in page
    assert url("sessions_log_edit", closed.pk, entry.pk) not in page
    detail = client.get(url("relationship_detail", closed.pk)).content.decode()
    assert url("sessions_log_add", closed.pk) not in detail
    assert "Needs attention" not in detail


def test_a_group_session_with_an_ended_relationship_can_no_longer_change(
    client, cast, pair, others
):
    entry = log(pair, method=SessionLog.Method.GROUP, also=[others["closed"]])
    client.force_login(cast.mentor)
    response = client.post(url("sessions_log_delete", pair.pk, entry.pk), follow=True)
    assert "also in the log of a relationship that has ended" in response.content.decode()
    assert entries_of(pair) == [entry]
    page = client.get(url("sessions_log", pair.pk)).content.decode()
    assert url("sessions_log_edit", pair.pk, entry.pk) not in page


# --- Bounded queries --------------------------------------------------------------------


def bulk_log(relationship, count):
    with scopes_disabled():
        entries = SessionLog.objects.bulk_create(
            SessionLog(
                programme=relationship.programme,
                mentor=relationship.mentor,
                held_on=days_ago(1 + n % 300),
                duration_minutes=30 + n % 60,
                method=SessionLog.Method.VIDEO,
                summary=f"Session {n}",
                themes=["workload"],
            )
            for n in range(count)
        )
        Link = SessionLog.relationships.through
        Link.objects.bulk_create(
            Link(sessionlog_id=e.pk, relationship_id=relationship.pk) for e in entries
        )
        SessionAction.objects.bulk_create(
            SessionAction(log=e, what="Follow up", who="Mentee") for e in entries
        )


def queries(client, address):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


@pytest.mark.parametrize("person", ["mentor", "mentee", "colleague"])
def test_pages_run_the_same_queries_with_200_sessions_as_with_3(client, cast, pair, person):
    share(pair)
    client.force_login(getattr(cast, person))
    addresses = [url("relationship_detail", pair.pk), url("sessions_log", pair.pk)]
    bulk_log(pair, 3)
    few = [queries(client, a) for a in addresses]
    bulk_log(pair, 197)
    many = [queries(client, a) for a in addresses]
    assert many == few
    print(f"{person}: relationship page and log page run {few} queries")


# --- Revalidation evidence --------------------------------------------------------------


@pytest.fixture
def evidence(cast, pair, others):
    log(pair, days=20, minutes=60)
    log(pair, days=50, minutes=30, method=SessionLog.Method.PHONE)
    log(pair, days=400, minutes=120)  # before the last 12 months
    log(
        others["hill"],
        days=15,
        minutes=90,
        method=SessionLog.Method.GROUP,
        also=[others["coastal"]],
    )
    log(others["theirs"], days=5, minutes=300)  # another mentor's
    with scopes_disabled():
        SessionRecord.objects.create(
            relationship=pair,
            held_on=days_ago(20),
            duration_minutes=60,
            discussion="Private discussion text",
            reflections="I noticed I jumped to advice too quickly.",
        )
        SessionRecord.objects.create(
            relationship=others["theirs"],
            held_on=days_ago(5),
            duration_minutes=60,
            reflections="Another mentor's reflection.",
        )


def test_initials_stand_for_names():
    assert initials("Amara Ashdown") == "A. A."
    assert initials("Mary-Jane  o'Neil") == "M. O."
    assert initials("Home Mentee") == "H. M."


def test_the_mentor_sees_hours_and_reflections_for_the_last_12_months(client, cast, evidence):
    client.force_login(cast.mentor)
    response = client.get(url("sessions_revalidation"))
    assert response.status_code == 200
    result = response.context["evidence"]
    assert result.sessions == 3  # the group session counts once
    assert result.minutes == 180
    assert result.group_sessions == 1
    rows = {row.initials: row for row in result.rows}
    assert set(rows) == {"H. M.", "H. H.", "C. M."}
    assert (rows["H. M."].sessions, rows["H. M."].minutes) == (2, 90)
    assert rows["H. M."].method_labels == ["Video call", "Phone"]
    assert (rows["H. H."].sessions, rows["H. H."].minutes) == (1, 90)
    page = response.content.decode()
    assert "3 hours" in page
    assert "I noticed I jumped to advice too quickly." in page
    assert "Another mentor" not in page
    assert "Private discussion text" not in page
    for name in ("Home Mentee", "Hilda Hill", "Coastal Mentee"):
        assert name not in page


def test_the_mentor_chooses_the_period(client, cast, evidence):
    client.force_login(cast.mentor)
    start, end = days_ago(30), days_ago(10)
    response = client.get(
        url("sessions_revalidation"),
        {
            "start_day": start.day,
            "start_month": start.month,
            "start_year": start.year,
            "end_day": end.day,
            "end_month": end.month,
            "end_year": end.year,
        },
    )
    result = response.context["evidence"]
    assert (result.sessions, result.minutes) == (2, 150)


def test_a_period_that_ends_before_it_starts_is_refused(client, cast, evidence):
    client.force_login(cast.mentor)
    response = client.get(
        url("sessions_revalidation"),
        {
            "start_day": "10",
            "start_month": "3",
            "start_year": "2025",
            "end_day": "1",
            "end_month": "3",
            "end_year": "2025",
            "download": "pdf",
        },
    )
    assert response["Content-Type"].startswith("text/html")
    assert "End date must be the same as or after the start date" in response.content.decode()
    assert response.context["evidence"] is None


def first_page_dark_pixels(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "evidence.pdf"
    path.write_bytes(pdf)
    argv = [shutil.which("pdftoppm"), "-png", "-r", "50", "-f", "1", "-l", "1"]
    subprocess.run([*argv, str(path), str(tmp_path / "page")], check=True)  # noqa: S603
    [png] = list(tmp_path.glob("page*.png"))
    image = Image.open(io.BytesIO(png.read_bytes())).convert("L")
    return sum(image.histogram()[:128])


def test_the_evidence_downloads_as_a_pdf_with_a_first_page_that_is_not_blank(
    client, cast, evidence, tmp_path
):
    client.force_login(cast.mentor)
    response = client.get(url("sessions_revalidation"), {"download": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith(f'-to-{TODAY():%Y-%m-%d}.pdf"')
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert first_page_dark_pixels(pdf, tmp_path) > 500
    event = audit_rows(cast)[-1]
    assert (event.action, event.object_label) == (
        AuditEvent.Action.DOWNLOAD,
        "Revalidation evidence",
    )
    assert "jumped to advice" not in str(event.__dict__)


def test_the_pdf_names_no_mentee(client, cast, evidence, tmp_path):
    client.force_login(cast.mentor)
    pdf = client.get(url("sessions_revalidation"), {"download": "pdf"}).content
    path = tmp_path / "evidence.pdf"
    path.write_bytes(pdf)
    argv = [shutil.which("pdftotext"), str(path), "-"]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)  # noqa: S603
    text = " ".join(done.stdout.split())
    assert "Mentoring practice hours and reflective accounts" in text
    assert "NMC revalidation" in text
    assert "H. M." in text
    assert "I noticed I jumped to advice too quickly." in text
    for name in ("Home Mentee", "Hilda Hill", "Coastal Mentee"):
        assert name not in text


@pytest.mark.parametrize("person", ["owner", "colleague", "mentee", "evaluator"])
def test_only_mentors_have_revalidation_evidence(client, cast, evidence, person):
    client.force_login(getattr(cast, person))
    assert client.get(url("sessions_revalidation")).status_code == 404
    assert client.get(url("sessions_revalidation"), {"download": "pdf"}).status_code == 404


# --- Demo data --------------------------------------------------------------------------


def test_the_demo_logs_sessions_and_running_it_again_changes_nothing():
    from demo.papers_sessions import seed

    call_command("seed_demo")
    with scopes_disabled():
        programme = Programme.objects.get(
            organisation__slug="wessex", name="WCA Legacy Mentor Pilot"
        )
    seed(programme)

    def counts():
        with scopes_disabled():
            return (
                SessionLog.objects.count(),
                SessionAction.objects.count(),
                SessionRecord.objects.count(),
                SessionRecord.objects.filter(shared_with_mentee=True).count(),
            )

    first = counts()
    seed(programme)
    assert counts() == first
    logs, actions, records, shared = first
    assert logs > 20 and actions > 10 and records >= 3 and 0 < shared < records
    with scopes_disabled():
        logs = SessionLog.objects.filter(programme=programme).prefetch_related("relationships")
        assert [e for e in logs if len(e.relationships.all()) > 1]
        quiet = [
            r
            for r in Relationship.objects.filter(
                programme=programme, stage__in=Relationship.OPEN_STAGES
            ).exclude(stage=Relationship.Stage.SETTING_UP)
            if (last := r.session_logs.order_by("-held_on").first())
            and (TODAY() - last.held_on).days >= 60
        ]
        assert quiet
        past_setting_up = Relationship.objects.filter(programme=programme).exclude(
            stage__in=[
                Relationship.Stage.SETTING_UP,
                Relationship.Stage.DECLINED,
                Relationship.Stage.REMATCHED,
            ]
        )
        assert all(r.session_logs.exists() for r in past_setting_up if r.started_on < days_ago(30))
