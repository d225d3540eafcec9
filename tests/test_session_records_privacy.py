"""Session records are the pair's alone.

The mentor reads and writes every record of their relationship; the mentee reads
only the records the mentor shares. Everyone else gets the same 404 as a record that
does not exist, on every record page, shared or not, even when they may read the
relationship and its session log, and the relationship page tells them nothing
about records. The audit trail says a record was read, never what it says.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.models import Relationship, SessionLog, SessionRecord
from programmes.models import AuditEvent, Role

from .conftest import enable_totp
from .factories import MembershipFactory, MenteeFactory, MentorFactory, UserFactory
from .factories_matching import RelationshipFactory
from .test_sessions import log, share

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
PLAN = "PLAN-7c1 Look again at the clinic template"
DISCUSSION = "DISCUSSION-9e4 Worries about the new rota"
OUTCOMES = "OUTCOMES-2b8 Will speak to the matron"
REFLECTIONS = "REFLECTIONS-5d0 I talked too much today"
TEXTS = (PLAN, DISCUSSION, OUTCOMES, REFLECTIONS)

READ_URLS = ("sessions_record_list", "sessions_record_detail")
CHANGE_URLS = ("sessions_record_edit", "sessions_record_delete")
OUTSIDERS = (
    "owner",
    "colleague",
    "lead_without_trusts",
    "evaluator",
    "other_mentor",
    "other_mentee",
    "other_admin",
    "admin_who_mentors",
    "lead_who_is_a_mentee",
)


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


def record_url(name, relationship, record):
    if name in ("sessions_record_list", "sessions_record_add"):
        return url(name, relationship.pk)
    return url(name, relationship.pk, record.pk)


@pytest.fixture
def pair(cast):
    relationship = RelationshipFactory(
        mentee=cast.mentee_record,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.NAVIGATING,
        started_on=TODAY() - datetime.timedelta(days=90),
    )
    share(relationship)  # the log, not the records, is shared with managers
    return relationship


@pytest.fixture
def people(cast):
    """The cast, plus a mentor and a mentee of another pair in the same organisation."""
    other_mentor = UserFactory(email="other.mentor@home.test", full_name="Other Mentor")
    other_mentee = UserFactory(email="other.mentee@home.test", full_name="Other Mentee")
    for user, role in ((other_mentor, Role.MENTOR), (other_mentee, Role.MENTEE)):
        MembershipFactory(organisation=cast.org, user=user, role=role)
        enable_totp(user)
    RelationshipFactory(
        mentor=MentorFactory(programme=cast.programme, user=other_mentor, trust=cast.trust),
        mentee=MenteeFactory(
            programme=cast.programme,
            trust=cast.trust,
            user=other_mentee,
            full_name="Other Mentee",
            email="other.mentee@home.test",
        ),
        stage=Relationship.Stage.NAVIGATING,
    )
    # People with two roles: the pair's own roles elsewhere must not open these records.
    admin_mentor = UserFactory(email="admin.mentor@home.test", full_name="Admin Mentor")
    lead_mentee = UserFactory(email="lead.mentee@home.test", full_name="Lead Mentee")
    for user, roles in (
        (admin_mentor, (Role.ADMIN, Role.MENTOR)),
        (lead_mentee, (Role.LEAD_NURSE, Role.MENTEE)),
    ):
        for role in roles:
            trusts = [cast.trust] if role == Role.LEAD_NURSE else []
            MembershipFactory(organisation=cast.org, user=user, role=role, trusts=trusts)
        enable_totp(user)
    RelationshipFactory(
        mentor=MentorFactory(programme=cast.programme, user=admin_mentor, trust=cast.trust),
        mentee=MenteeFactory(
            programme=cast.programme,
            trust=cast.trust,
            user=lead_mentee,
            full_name="Lead Mentee",
            email="lead.mentee@home.test",
        ),
        stage=Relationship.Stage.NAVIGATING,
    )
    named = {
        name: getattr(cast, name)
        for name in ("owner", "colleague", "lead_without_trusts", "evaluator", "mentor", "mentee")
    }
    return named | {
        "other_mentor": other_mentor,
        "other_mentee": other_mentee,
        "other_admin": cast.other_admin,
        "admin_who_mentors": admin_mentor,
        "lead_who_is_a_mentee": lead_mentee,
    }


def make_record(relationship, *, shared, days=10):
    with scopes_disabled():
        return SessionRecord.objects.create(
            relationship=relationship,
            held_on=TODAY() - datetime.timedelta(days=days),
            duration_minutes=60,
            plan=PLAN,
            discussion=DISCUSSION,
            actions_outcomes=OUTCOMES,
            reflections=REFLECTIONS,
            shared_with_mentee=shared,
        )


def record_data(**overrides):
    day = TODAY() - datetime.timedelta(days=2)
    data = {
        "held_on_day": str(day.day),
        "held_on_month": str(day.month),
        "held_on_year": str(day.year),
        "duration_hours": "1",
        "duration_minutes": "",
        "plan": PLAN,
        "discussion": DISCUSSION,
        "actions_outcomes": OUTCOMES,
        "reflections": REFLECTIONS,
        "log": "",
    }
    data.update(overrides)
    return data


def sessions_section(page: str) -> str:
    """The relationship page's sessions section."""
    start = page.index('<section aria-labelledby="sessions-heading">')
    return page[start : page.index("</section>", start)]


def records_of(relationship):
    with scopes_disabled():
        return list(relationship.session_records.order_by("pk"))


# --- Every role, shared and not shared -------------------------------------------------


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "not-shared"])
@pytest.mark.parametrize("person", OUTSIDERS)
def test_nobody_outside_the_pair_reaches_any_record_page(
    client, cast, pair, people, person, shared
):
    record = make_record(pair, shared=shared)
    client.force_login(people[person])
    for name in (*READ_URLS, *CHANGE_URLS, "sessions_record_add"):
        address = record_url(name, pair, record)
        assert client.get(address).status_code == 404, (name, person)
        assert client.post(address, record_data(plan="Overwritten")).status_code == 404
    assert records_of(pair) == [record]
    with scopes_disabled():
        record.refresh_from_db()
    assert record.plan == PLAN


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "not-shared"])
@pytest.mark.parametrize("person", ["owner", "colleague"])
def test_managers_who_read_the_log_learn_nothing_about_records(client, cast, pair, person, shared):
    make_record(pair, shared=shared)
    log(pair)
    client.force_login(getattr(cast, person))
    assert client.get(url("sessions_log", pair.pk)).status_code == 200
    detail = client.get(url("relationship_detail", pair.pk)).content.decode()
    panel_html = sessions_section(detail)
    log_page = client.get(url("sessions_log", pair.pk)).content.decode()
    for html in (panel_html, log_page):
        assert "record" not in html.lower().replace("recorded", "")
    for text in TEXTS:
        assert text not in detail and text not in log_page
    panel = client.get(url("relationship_detail", pair.pk)).context["sessions_panel"]
    assert panel["records"] is None


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "not-shared"])
def test_the_mentor_reads_and_changes_every_record(client, cast, pair, shared):
    record = make_record(pair, shared=shared)
    client.force_login(cast.mentor)
    for name in (*READ_URLS, *CHANGE_URLS, "sessions_record_add"):
        assert client.get(record_url(name, pair, record)).status_code == 200, name
    page = client.get(record_url("sessions_record_detail", pair, record)).content.decode()
    for text in TEXTS:
        assert text in page
    assert ("Shared with Home Mentee" in page) is shared
    listing = client.get(url("sessions_record_list", pair.pk)).content.decode()
    assert ("Not shared" in listing) is not shared


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "not-shared"])
def test_the_mentee_reads_a_record_only_when_it_is_shared(client, cast, pair, shared):
    record = make_record(pair, shared=shared)
    client.force_login(cast.mentee)
    detail = client.get(record_url("sessions_record_detail", pair, record))
    assert detail.status_code == (200 if shared else 404)
    if shared:
        for text in TEXTS:
            assert text in detail.content.decode()
        assert url("sessions_record_edit", pair.pk, record.pk) not in detail.content.decode()
    listing = client.get(url("sessions_record_list", pair.pk))
    assert listing.status_code == 200
    assert [r.pk for r in listing.context["records"]] == ([record.pk] if shared else [])
    for name in (*CHANGE_URLS, "sessions_record_add"):
        address = record_url(name, pair, record)
        assert client.get(address).status_code == 404, name
        assert client.post(address, record_data(plan="Overwritten")).status_code == 404
    with scopes_disabled():
        record.refresh_from_db()
    assert record.plan == PLAN


def test_the_mentee_lists_only_the_shared_records(client, cast, pair):
    shared = make_record(pair, shared=True, days=5)
    make_record(pair, shared=False, days=20)
    client.force_login(cast.mentee)
    response = client.get(url("sessions_record_list", pair.pk))
    assert [r.pk for r in response.context["records"]] == [shared.pk]
    panel = client.get(url("relationship_detail", pair.pk)).context["sessions_panel"]
    assert panel["records"] == 1


def test_unsharing_a_record_takes_it_back_from_the_mentee(client, cast, pair):
    record = make_record(pair, shared=True)
    client.force_login(cast.mentee)
    assert client.get(record_url("sessions_record_detail", pair, record)).status_code == 200
    client.force_login(cast.mentor)
    response = client.post(url("sessions_record_edit", pair.pk, record.pk), record_data())
    assert response.status_code == 302
    client.force_login(cast.mentee)
    assert client.get(record_url("sessions_record_detail", pair, record)).status_code == 404


def test_a_record_is_reached_only_through_its_own_relationship(client, cast, pair):
    other = RelationshipFactory(
        mentee=cast.mentee_other_trust,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.NAVIGATING,
    )
    record = make_record(other, shared=True)
    for person in ("mentor", "mentee"):
        client.force_login(getattr(cast, person))
        for name in (*READ_URLS[1:], *CHANGE_URLS):
            assert client.get(url(name, pair.pk, record.pk)).status_code == 404


# --- The audit says a record was read, not what it says ---------------------------------


def test_no_audit_event_carries_any_record_text(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(
        url("sessions_record_add", pair.pk), record_data(shared_with_mentee="on")
    )
    assert response.status_code == 302
    [record] = records_of(pair)
    client.get(url("sessions_record_detail", pair.pk, record.pk))
    client.get(url("sessions_record_list", pair.pk))
    client.post(
        url("sessions_record_edit", pair.pk, record.pk),
        record_data(reflections=REFLECTIONS + " and listened less", shared_with_mentee="on"),
    )
    client.force_login(cast.mentee)
    client.get(url("sessions_record_detail", pair.pk, record.pk))
    client.get(url("sessions_record_list", pair.pk))
    client.force_login(cast.mentor)
    client.get(url("sessions_revalidation"))
    client.get(url("sessions_revalidation"), {"download": "pdf"})
    client.post(url("sessions_record_delete", pair.pk, record.pk))

    with scope(organisation=cast.org):
        events = list(AuditEvent.objects.order_by("pk"))
    reads = [e for e in events if e.object_type == "session record"]
    assert [(e.action, e.actor_id) for e in reads] == [
        (AuditEvent.Action.VIEW, cast.mentor.pk),
        (AuditEvent.Action.VIEW, cast.mentee.pk),
    ]
    assert all(e.object_id == str(record.pk) and e.object_label == "Session record" for e in reads)
    changes = [e for e in events if e.object_type == "sessionrecord"]
    assert [e.action for e in changes] == [
        AuditEvent.Action.CREATE,
        AuditEvent.Action.CHANGE,
        AuditEvent.Action.DELETE,
    ]
    assert changes[1].fields == ["reflections"]
    for event in events:
        stored = " ".join(
            str(value)
            for value in (
                event.object_type,
                event.object_id,
                event.object_label,
                event.fields,
                event.path,
            )
        )
        for text in (*TEXTS, "listened less", "PLAN-", "REFLECTIONS-"):
            assert text not in stored, (event.action, event.object_type)


# --- Keeping records ------------------------------------------------------------------


def test_the_mentor_adds_a_record_tied_to_a_logged_session(client, cast, pair):
    entry = log(pair, days=2, minutes=45)
    client.force_login(cast.mentor)
    form = client.get(url("sessions_record_add", pair.pk)).context["form"]
    assert list(form.fields["log"].queryset) == [entry]
    page = client.get(url("sessions_record_add", pair.pk)).content.decode()
    assert "Share this record with Home Mentee" in page
    assert page.count("Do not include anything that could identify a patient.") >= 4
    response = client.post(
        url("sessions_record_add", pair.pk),
        record_data(log=str(entry.pk), duration_hours="", duration_minutes="45"),
    )
    [record] = records_of(pair)
    assert response["Location"] == url("sessions_record_detail", pair.pk, record.pk)
    assert (record.log_id, record.duration_minutes, record.shared_with_mentee) == (
        entry.pk,
        45,
        False,
    )
    assert record.reflections == REFLECTIONS


def test_a_record_cannot_be_tied_to_another_relationships_session(client, cast, pair):
    other = RelationshipFactory(
        mentee=cast.mentee_other_trust, mentor=cast.mentor_record, stage="navigating"
    )
    elsewhere = log(other)
    client.force_login(cast.mentor)
    response = client.post(url("sessions_record_add", pair.pk), record_data(log=str(elsewhere.pk)))
    assert "Select a session from this mentee" in response.content.decode()
    assert records_of(pair) == []


def test_an_empty_record_is_refused_and_the_date_kept(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(
        url("sessions_record_add", pair.pk),
        record_data(plan="", discussion=" ", actions_outcomes="", reflections=""),
    )
    page = response.content.decode()
    assert "Enter the plan, the discussion, actions and outcomes, or reflections" in page
    assert f'value="{(TODAY() - datetime.timedelta(days=2)).day}"' in page
    assert records_of(pair) == []


def test_the_mentor_deletes_a_record_after_confirming(client, cast, pair):
    record = make_record(pair, shared=True)
    client.force_login(cast.mentor)
    assert (
        "Delete the session record"
        in client.get(url("sessions_record_delete", pair.pk, record.pk)).content.decode()
    )
    response = client.post(url("sessions_record_delete", pair.pk, record.pk))
    assert response["Location"] == url("sessions_record_list", pair.pk)
    assert records_of(pair) == []


def test_deleting_a_logged_session_keeps_its_record(client, cast, pair):
    entry = log(pair)
    record = make_record(pair, shared=False)
    with scopes_disabled():
        SessionRecord.objects.filter(pk=record.pk).update(log=entry)
    client.force_login(cast.mentor)
    client.post(url("sessions_log_delete", pair.pk, entry.pk))
    [kept] = records_of(pair)
    assert kept.log_id is None


def test_a_closed_relationships_records_are_read_only(client, cast, pair):
    record = make_record(pair, shared=True)
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(
            stage=Relationship.Stage.CLOSED, ended_on=TODAY()
        )
    client.force_login(cast.mentor)
    for name in ("sessions_record_add", *CHANGE_URLS):
        response = client.post(record_url(name, pair, record), record_data(plan="New"), follow=True)
        assert response.redirect_chain[-1][0] == url("sessions_record_list", pair.pk)
        assert "This relationship has ended" in response.content.decode()
    assert records_of(pair) == [record]
    with scopes_disabled():
        record.refresh_from_db()
    assert record.plan == PLAN
    page = client.get(url("sessions_record_detail", pair.pk, record.pk)).content.decode()
    assert url("sessions_record_edit", pair.pk, record.pk) not in page
    assert client.get(url("sessions_record_list", pair.pk)).status_code == 200


def test_session_records_do_not_appear_in_the_log(client, cast, pair):
    entry = log(pair)
    with scopes_disabled():
        SessionRecord.objects.filter(pk=make_record(pair, shared=True).pk).update(log=entry)
    for person in ("mentor", "mentee", "colleague"):
        client.force_login(getattr(cast, person))
        page = client.get(url("sessions_log", pair.pk)).content.decode()
        for text in TEXTS:
            assert text not in page
    with scopes_disabled():
        assert SessionLog.objects.filter(pk=entry.pk).exists()
