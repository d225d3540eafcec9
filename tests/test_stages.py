"""The mentor map: stages and checklist, closing a relationship, referring a mentee again,
the lead nurse's overview, the inactivity nudge, and the demo data.

The pair is the cast's mentor (``cast.mentor_record``) and mentee
(``cast.mentee_record``, in the colleague lead nurse's trust). The owner is an admin;
the colleague a lead nurse of the mentee's trust.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_scopes import scope, scopes_disabled

from matching.models import Exclusion
from mentoring import checklist, tasks
from mentoring.models import (
    CHECKLIST,
    Agreement,
    ChecklistTick,
    InactivityNudge,
    Mentee,
    Relationship,
    SessionLog,
    SupportResource,
)
from programmes.models import AuditEvent, Programme

from .conftest import CANARY
from .factories import MenteeFactory, MentorFactory, ProgrammeFactory, TrustFactory, UserFactory
from .factories_matching import RelationshipFactory
from .url_cases.mentoring_intake import foreign_mentor

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
STAGE = Relationship.Stage
SETTING_UP_ITEMS = [code for code, _, stage in CHECKLIST if stage == "setting_up"]


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


def days_ago(days: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=days)


def date_data(value: datetime.date, name: str = "done_on") -> dict:
    return {f"{name}_day": value.day, f"{name}_month": value.month, f"{name}_year": value.year}


def reload(obj):
    with scopes_disabled():
        return type(obj).objects.get(pk=obj.pk)


def ticks_of(relationship) -> dict[str, datetime.date]:
    with scopes_disabled():
        return dict(
            ChecklistTick.objects.filter(relationship=relationship).values_list("item", "done_on")
        )


def events(organisation, **filters):
    with scope(organisation=organisation):
        return list(AuditEvent.objects.filter(organisation=organisation, **filters).order_by("pk"))


@pytest.fixture
def pair(cast):
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=Mentee.Status.ACTIVE)
    return RelationshipFactory(
        mentee=cast.mentee_record, mentor=cast.mentor_record, started_on=days_ago(60)
    )


def tick_in_scope(cast, relationship, *items, on=None):
    with scope(organisation=cast.org):
        for item in items:
            checklist.tick(relationship, item, by=cast.mentor, on=on or days_ago(5))


def log_session(cast, relationships, *, held_on, minutes=60, mentor=None):
    with scopes_disabled():
        log = SessionLog.objects.create(
            programme=cast.programme,
            mentor=mentor or cast.mentor_record,
            held_on=held_on,
            duration_minutes=minutes,
            method=SessionLog.Method.VIDEO,
            summary="Talked about prioritising the caseload.",
        )
        log.relationships.set(relationships)
    return log


def agreement(relationship, version=1, *, sent=False, signed=False):
    now = timezone.now()
    with scopes_disabled():
        return Agreement.objects.create(
            relationship=relationship,
            version=version,
            goals="Settle into the role",
            meeting_frequency="Monthly",
            meeting_duration="An hour",
            evaluation_period="12 months",
            progress_recording="Session log",
            confidentiality="Confidential",
            sent_at=now if sent or signed else None,
            mentor_signed_name="Mentor" if signed else "",
            mentor_signed_at=now if signed else None,
            mentee_signed_name="Mentee" if signed else "",
            mentee_signed_at=now if signed else None,
        )


# --- The stage panel ------------------------------------------------------------------


@pytest.mark.parametrize("person", ["owner", "colleague", "mentor", "mentee"])
def test_everyone_who_may_read_the_relationship_sees_the_mentor_map(client, cast, pair, person):
    tick_in_scope(cast, pair, "contacted_mentee", on=days_ago(10))
    client.force_login(getattr(cast, person))
    body = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert "Mentor map" in body
    assert "Current stage:" in body
    for _, label, _ in CHECKLIST:
        assert escape(label) in body
    for stage in ("Setting up", "Getting started", "Navigating", "Consolidating", "Parting ways"):
        assert stage in body
    assert f"on {days_ago(10):%-d %B %Y}" in body


def test_only_the_mentor_sees_the_controls_to_tick_and_move(client, cast, pair):
    client.force_login(cast.mentor)
    body = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert url("stage_tick", pair.pk, "contacted_mentee") in body
    assert "Move on to getting started" in body
    assert url("relationship_close", pair.pk) in body
    for person in ("owner", "colleague", "mentee"):
        client.force_login(getattr(cast, person))
        body = client.get(url("relationship_detail", pair.pk)).content.decode()
        assert "Mark as done" not in body
        assert "Move on to" not in body
        assert (url("relationship_close", pair.pk) in body) == (person == "owner")


def test_the_tick_form_offers_today(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.get(url("stage_tick", pair.pk, "contacted_mentee"))
    assert response.status_code == 200
    assert response.context["form"]["done_on"].value() == TODAY()
    assert "Contacted the mentee" in response.content.decode()


def test_the_mentor_ticks_an_item_with_its_date(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(
        url("stage_tick", pair.pk, "contacted_mentee"), date_data(days_ago(3)), follow=True
    )
    assert response.redirect_chain[-1][0] == url("relationship_detail", pair.pk)
    assert "“Contacted the mentee” is marked as done." in response.content.decode()
    assert ticks_of(pair) == {"contacted_mentee": days_ago(3)}
    with scopes_disabled():
        assert ChecklistTick.objects.get(relationship=pair).done_by == cast.mentor
    [event] = events(cast.org, action=AuditEvent.Action.CREATE, object_type="checklisttick")
    assert event.actor == cast.mentor
    assert event.fields == ["done_on", "item"]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (lambda: TODAY() + datetime.timedelta(days=1), "Date done must be the same as or before"),
        (lambda: days_ago(61), "Date done must be the same as or after"),
    ],
)
def test_a_tick_cannot_be_dated_in_the_future_or_before_the_start(
    client, cast, pair, when, message
):
    client.force_login(cast.mentor)
    response = client.post(url("stage_tick", pair.pk, "contacted_mentee"), date_data(when()))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ticks_of(pair) == {}


def test_a_tick_needs_a_real_date_and_keeps_what_was_typed(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(
        url("stage_tick", pair.pk, "contacted_mentee"),
        {"done_on_day": "31", "done_on_month": "2", "done_on_year": "2025"},
    )
    body = response.content.decode()
    assert "Date done must be a real date" in body
    assert 'value="31"' in body
    assert ticks_of(pair) == {}


def test_an_item_already_ticked_keeps_its_first_date(client, cast, pair):
    tick_in_scope(cast, pair, "contacted_mentee", on=days_ago(20))
    client.force_login(cast.mentor)
    response = client.post(
        url("stage_tick", pair.pk, "contacted_mentee"), date_data(days_ago(1)), follow=True
    )
    assert "already marked as done" in response.content.decode()
    assert ticks_of(pair) == {"contacted_mentee": days_ago(20)}


def test_an_unknown_item_is_not_found(client, cast, pair):
    client.force_login(cast.mentor)
    assert client.get(url("stage_tick", pair.pk, "no_such_item")).status_code == 404


def test_ticking_the_last_item_of_a_stage_moves_it_on(client, cast, pair):
    tick_in_scope(cast, pair, *SETTING_UP_ITEMS[:-1])
    assert reload(pair).stage == STAGE.SETTING_UP
    client.force_login(cast.mentor)
    response = client.post(
        url("stage_tick", pair.pk, SETTING_UP_ITEMS[-1]), date_data(TODAY()), follow=True
    )
    assert "moved on to getting started" in response.content.decode()
    assert reload(pair).stage == STAGE.GETTING_STARTED
    [event] = events(cast.org, action=AuditEvent.Action.CHANGE, object_type="relationship")
    assert event.fields == ["stage"]
    assert event.actor == cast.mentor
    assert "Getting started" in event.object_label


def test_items_done_early_carry_the_stage_through_every_completed_stage(cast, pair):
    tick_in_scope(cast, pair, "agreement_signed", "starter_survey", *SETTING_UP_ITEMS[:-1])
    assert reload(pair).stage == STAGE.SETTING_UP
    tick_in_scope(cast, pair, SETTING_UP_ITEMS[-1])
    assert reload(pair).stage == STAGE.NAVIGATING


def test_other_areas_advance_the_stage_by_ticking(cast, pair):
    """Signing the agreement (or a survey) ticks its item through checklist.tick."""
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=STAGE.GETTING_STARTED)
    pair.stage = STAGE.GETTING_STARTED
    tick_in_scope(cast, pair, "starter_survey")
    assert reload(pair).stage == STAGE.GETTING_STARTED
    with scope(organisation=cast.org):
        checklist.tick(pair, "agreement_signed", by=None)
    assert reload(pair).stage == STAGE.NAVIGATING
    assert pair.stage == STAGE.NAVIGATING


def test_consolidating_and_parting_ways_never_move_on_by_themselves(cast, pair):
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=STAGE.NAVIGATING)
    tick_in_scope(cast, pair, "midpoint_survey")
    assert reload(pair).stage == STAGE.CONSOLIDATING
    tick_in_scope(cast, pair, "closure_survey", "documentation_complete")
    assert reload(pair).stage == STAGE.CONSOLIDATING
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=STAGE.PARTING_WAYS)
    with scope(organisation=cast.org):
        assert checklist.advance_if_complete(reload(pair)) == STAGE.PARTING_WAYS


def test_the_mentor_moves_the_stage_on_and_back_by_hand(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(url("stage_move", pair.pk), {"direction": "forward"}, follow=True)
    assert "moved on to getting started" in response.content.decode()
    assert reload(pair).stage == STAGE.GETTING_STARTED
    response = client.post(url("stage_move", pair.pk), {"direction": "back"}, follow=True)
    assert "moved back to setting up" in response.content.decode()
    assert reload(pair).stage == STAGE.SETTING_UP
    changes = events(cast.org, action=AuditEvent.Action.CHANGE, object_type="relationship")
    assert [e.fields for e in changes] == [["stage"], ["stage"]]
    assert ["by hand" in e.object_label for e in changes] == [True, True]


def test_the_stage_cannot_move_past_either_end_of_the_map(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(url("stage_move", pair.pk), {"direction": "back"}, follow=True)
    assert "This is the first stage." in response.content.decode()
    assert reload(pair).stage == STAGE.SETTING_UP
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=STAGE.PARTING_WAYS)
    response = client.post(url("stage_move", pair.pk), {"direction": "forward"}, follow=True)
    assert "close the relationship" in response.content.decode()
    assert reload(pair).stage == STAGE.PARTING_WAYS


def test_moving_by_get_changes_nothing(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.get(url("stage_move", pair.pk))
    assert response.status_code == 302
    assert reload(pair).stage == STAGE.SETTING_UP


@pytest.mark.parametrize("person", ["owner", "colleague", "mentee"])
def test_the_mentee_and_managers_cannot_tick_move_or_see_the_tick_form(client, cast, pair, person):
    client.force_login(getattr(cast, person))
    tick = url("stage_tick", pair.pk, "contacted_mentee")
    assert client.get(tick).status_code == 404
    assert client.post(tick, date_data(TODAY())).status_code == 404
    assert client.post(url("stage_move", pair.pk), {"direction": "forward"}).status_code == 404
    assert ticks_of(pair) == {}
    assert reload(pair).stage == STAGE.SETTING_UP


def test_a_mentor_cannot_tick_another_mentors_relationship(client, cast, pair):
    other = RelationshipFactory(
        mentee=cast.mentee_other_trust,
        mentor=MentorFactory(programme=cast.programme, user=UserFactory()),
    )
    client.force_login(cast.mentor)
    assert client.get(url("stage_tick", other.pk, "contacted_mentee")).status_code == 404
    assert client.post(url("stage_move", other.pk)).status_code == 404


def test_another_organisations_relationship_cannot_be_ticked(client, cast):
    foreign = RelationshipFactory(mentee=cast.foreign_mentee, mentor=foreign_mentor(cast))
    client.force_login(cast.mentor)
    response = client.post(url("stage_tick", foreign.pk, "contacted_mentee"), date_data(TODAY()))
    assert response.status_code == 404
    assert CANARY not in response.content.decode()
    assert ticks_of(foreign) == {}


# --- Closing ------------------------------------------------------------------------


def close_data(**overrides):
    data = {
        "closure_kind": "goals_met",
        "closure_reason": "Both felt the goals were reached.",
        "continuing_informally": "True",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("person", ["mentor", "owner"])
def test_the_mentor_or_an_admin_closes_the_relationship(client, cast, pair, person):
    client.force_login(getattr(cast, person))
    assert client.get(url("relationship_close", pair.pk)).status_code == 200
    response = client.post(url("relationship_close", pair.pk), close_data(), follow=True)
    assert "The relationship has closed." in response.content.decode()
    closed = reload(pair)
    assert closed.stage == STAGE.CLOSED
    assert closed.ended_on == TODAY()
    assert closed.ended_by == getattr(cast, person)
    assert closed.closure_kind == Relationship.ClosureKind.GOALS_MET
    assert closed.closure_reason == "Both felt the goals were reached."
    assert closed.continuing_informally is True
    assert reload(cast.mentee_record).status == Mentee.Status.CLOSED
    [event] = events(cast.org, action=AuditEvent.Action.CHANGE, object_type="relationship")
    assert event.fields == sorted(
        [
            "stage",
            "ended_on",
            "ended_by",
            "closure_kind",
            "closure_reason",
            "continuing_informally",
        ]
    )
    assert event.object_label == "Closed: Goals met"
    every_event = events(cast.org)
    assert all("goals were reached" not in e.object_label + str(e.fields) for e in every_event)


def test_closing_without_a_note_saying_no_to_continuing(client, cast, pair):
    client.force_login(cast.mentor)
    client.post(
        url("relationship_close", pair.pk),
        close_data(
            closure_kind="mentee_left_post", closure_reason="", continuing_informally="False"
        ),
    )
    closed = reload(pair)
    assert closed.stage == STAGE.CLOSED
    assert closed.closure_kind == Relationship.ClosureKind.MENTEE_LEFT_POST
    assert closed.continuing_informally is False


def test_closing_needs_a_reason_and_an_answer(client, cast, pair):
    client.force_login(cast.mentor)
    response = client.post(url("relationship_close", pair.pk), {"closure_reason": "A note"})
    body = response.content.decode()
    assert "Select why the relationship is closing" in body
    assert "Select yes if you will continue informally" in body
    assert "A note" in body
    assert reload(pair).stage == STAGE.SETTING_UP


@pytest.mark.parametrize("person", ["colleague", "mentee"])
def test_the_mentee_and_lead_nurse_cannot_close(client, cast, pair, person):
    client.force_login(getattr(cast, person))
    assert client.get(url("relationship_close", pair.pk)).status_code == 404
    assert client.post(url("relationship_close", pair.pk), close_data()).status_code == 404
    assert reload(pair).stage == STAGE.SETTING_UP


def test_closing_as_rematched_puts_the_mentee_back_in_the_queue(
    client, cast, pair, django_capture_on_commit_callbacks
):
    client.force_login(cast.mentor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("relationship_close", pair.pk),
            close_data(closure_kind="rematched", closure_reason="", continuing_informally="False"),
            follow=True,
        )
    assert "back in the queue" in response.content.decode()
    ended = reload(pair)
    assert ended.stage == STAGE.REMATCHED
    assert ended.closure_kind == Relationship.ClosureKind.REMATCHED
    assert ended.continuing_informally is False
    assert ended.ended_by == cast.mentor
    assert reload(cast.mentee_record).status == Mentee.Status.AWAITING_MATCH
    with scopes_disabled():
        assert Exclusion.objects.filter(
            mentee=cast.mentee_record, mentor=cast.mentor_record
        ).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["mentee@home.test", "mentor@home.test"]


def test_a_closed_relationship_is_read_only(client, cast, pair):
    client.force_login(cast.mentor)
    client.post(url("relationship_close", pair.pk), close_data())
    body = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert 'data-testid="read-only-notice"' in body
    assert "read only" in body
    assert "Goals met" in body
    assert "Mark as done" not in body
    assert "Move on to" not in body
    assert url("relationship_close", pair.pk) not in body

    response = client.post(
        url("stage_tick", pair.pk, "contacted_mentee"), date_data(TODAY()), follow=True
    )
    assert "can no longer be changed" in response.content.decode()
    assert ticks_of(pair) == {}
    client.post(url("stage_move", pair.pk), {"direction": "back"})
    assert reload(pair).stage == STAGE.CLOSED
    response = client.post(url("relationship_close", pair.pk), close_data(), follow=True)
    assert "can no longer be changed" in response.content.decode()
    client.force_login(cast.owner)
    response = client.get(url("relationship_close", pair.pk), follow=True)
    assert "can no longer be changed" in response.content.decode()


def test_closing_twice_is_refused_by_the_service(cast, pair):
    from django.core.exceptions import ValidationError

    from mentoring import services

    with scope(organisation=cast.org):
        services.close_relationship(
            pair, kind="goals_met", continuing_informally=True, actor=cast.mentor
        )
        with pytest.raises(ValidationError):
            services.close_relationship(
                pair, kind="other", continuing_informally=False, actor=cast.mentor
            )
    assert reload(pair).closure_kind == "goals_met"


# --- Referring a closed mentee again ----------------------------------------------------


@pytest.fixture
def closed_mentee(cast, pair):
    with scope(organisation=cast.org):
        from mentoring import services

        services.close_relationship(
            pair, kind="goals_met", continuing_informally=False, actor=cast.mentor
        )
    return reload(cast.mentee_record)


@pytest.mark.parametrize("person", ["owner", "colleague"])
def test_a_manager_refers_a_closed_mentee_again(client, cast, closed_mentee, person):
    client.force_login(getattr(cast, person))
    body = client.get(url("mentee_detail", closed_mentee.pk)).content.decode()
    assert url("mentee_refer_again", closed_mentee.pk) in body
    response = client.post(
        url("mentee_refer_again", closed_mentee.pk), {"reason": "new_role"}, follow=True
    )
    assert "back in the queue" in response.content.decode()
    assert reload(closed_mentee).status == Mentee.Status.AWAITING_MATCH
    event = events(cast.org, action=AuditEvent.Action.CHANGE, object_type="mentee")[-1]
    assert event.fields == ["status"]
    assert event.object_label == "Referred again: A new role or new development needs"
    assert event.actor == getattr(cast, person)


def test_referring_again_needs_a_reason(client, cast, closed_mentee):
    client.force_login(cast.colleague)
    response = client.post(url("mentee_refer_again", closed_mentee.pk), {})
    assert "Select why the mentee is being referred again" in response.content.decode()
    assert reload(closed_mentee).status == Mentee.Status.CLOSED


def test_only_a_closed_mentee_can_be_referred_again(client, cast, pair):
    client.force_login(cast.colleague)
    body = client.get(url("mentee_detail", cast.mentee_record.pk)).content.decode()
    assert url("mentee_refer_again", cast.mentee_record.pk) not in body
    response = client.post(url("mentee_refer_again", cast.mentee_record.pk), {"reason": "other"})
    assert "Only a mentee whose mentoring has closed" in response.content.decode()
    assert reload(cast.mentee_record).status == Mentee.Status.ACTIVE


@pytest.mark.parametrize("person", ["mentor", "mentee", "lead_without_trusts", "evaluator"])
def test_others_cannot_refer_a_mentee_again(client, cast, closed_mentee, person):
    client.force_login(getattr(cast, person))
    response = client.post(url("mentee_refer_again", closed_mentee.pk), {"reason": "other"})
    assert response.status_code == 404
    assert reload(closed_mentee).status == Mentee.Status.CLOSED


# --- The lead nurse's overview --------------------------------------------------------


def rows(response):
    return {r.pk: r for r in response.context["page"]}


def test_the_overview_shows_stage_agreement_sessions_and_attention(client, cast, pair):
    quiet = RelationshipFactory(
        mentee=MenteeFactory(programme=cast.programme, trust=cast.trust, full_name="Quiet One"),
        mentor=cast.mentor_record,
        stage=STAGE.NAVIGATING,
        started_on=days_ago(120),
    )
    never_met = RelationshipFactory(
        mentee=MenteeFactory(programme=cast.programme, trust=cast.trust, full_name="New One"),
        mentor=cast.mentor_record,
        started_on=days_ago(50),
    )
    closed = RelationshipFactory(
        mentee=MenteeFactory(programme=cast.programme, trust=cast.trust, full_name="Done One"),
        mentor=cast.mentor_record,
        stage=STAGE.CLOSED,
        started_on=days_ago(400),
        ended_on=days_ago(100),
    )
    # A group session counts once for each relationship in it.
    log_session(cast, [pair, quiet], held_on=days_ago(50), minutes=90)
    log_session(cast, [pair], held_on=days_ago(10), minutes=30)
    log_session(cast, [quiet], held_on=days_ago(45), minutes=60)
    agreement(pair, 1, signed=True)
    agreement(pair, 2, sent=True)
    agreement(quiet, 1)
    agreement(never_met, 1, sent=True)
    agreement(closed, 1, signed=True)

    client.force_login(cast.colleague)
    response = client.get(url("relationship_list"))
    listed = rows(response)
    assert (listed[pair.pk].sessions_count, listed[pair.pk].minutes_total) == (2, 120)
    assert listed[pair.pk].last_session_on == days_ago(10)
    assert (listed[quiet.pk].sessions_count, listed[quiet.pk].minutes_total) == (2, 150)
    assert listed[quiet.pk].last_session_on == days_ago(45)
    assert listed[never_met.pk].sessions_count == 0
    assert listed[never_met.pk].last_session_on is None
    assert [listed[r.pk].needs_attention for r in (pair, quiet, never_met, closed)] == [
        False,
        True,
        True,
        False,
    ]
    body = response.content.decode()
    assert body.count('data-testid="needs-attention"') == 2
    assert "No session for 45 days" in body
    assert "No session for 50 days" in body
    assert "Sent v.2" in body and "v.1 signed" in body
    assert "Draft v.1" in body
    assert "Signed v.1" in body
    assert "2 sessions" in body and "2 hours" in body and "2.5 hours" in body
    assert f"{days_ago(10):%-d %B %Y}" in body
    assert "None yet" in body


def test_a_relationship_without_an_agreement_says_none(client, cast, pair):
    client.force_login(cast.colleague)
    body = client.get(url("relationship_list")).content.decode()
    assert '<td class="nhsuk-table__cell" data-testid="agreement-status">' in body
    assert "None" in body.split('data-testid="agreement-status">')[1].split("</td>")[0]


def test_each_programme_uses_its_own_inactivity_days(client, cast, pair):
    with scopes_disabled():
        Programme.objects.filter(pk=cast.programme.pk).update(inactivity_days=90)
    client.force_login(cast.colleague)
    assert rows(client.get(url("relationship_list")))[pair.pk].needs_attention is False
    with scopes_disabled():
        Programme.objects.filter(pk=cast.programme.pk).update(inactivity_days=60)
    assert rows(client.get(url("relationship_list")))[pair.pk].needs_attention is True


def test_the_overview_filters_to_relationships_needing_attention(client, cast, pair):
    recent = RelationshipFactory(
        mentee=MenteeFactory(programme=cast.programme, trust=cast.trust),
        mentor=cast.mentor_record,
        started_on=days_ago(100),
    )
    log_session(cast, [recent], held_on=days_ago(3))
    client.force_login(cast.colleague)
    assert set(rows(client.get(url("relationship_list")))) == {pair.pk, recent.pk}
    response = client.get(url("relationship_list"), {"attention": "on"})
    assert set(rows(response)) == {pair.pk}
    assert 'name="attention"' in response.content.decode()
    response = client.get(url("relationship_list"), {"attention": "on", "stage": "navigating"})
    assert set(rows(response)) == set()


def bulk_open_relationships(cast, count, *, offset=0):
    """Open relationships, each with two sessions (one a group) and two agreements."""
    with scopes_disabled():
        mentees = Mentee.objects.bulk_create(
            Mentee(
                programme=cast.programme,
                trust=cast.trust,
                full_name=f"Bulk Mentee {offset + n}",
                email=f"bulk{offset + n}@hgh.test",
                role_title="Breast cancer CNS",
                identified_by="lead_nurse",
                status=Mentee.Status.ACTIVE,
            )
            for n in range(count)
        )
        relationships = Relationship.objects.bulk_create(
            Relationship(
                programme=cast.programme,
                mentor=cast.mentor_record,
                mentee=mentee,
                stage=STAGE.NAVIGATING,
                started_on=days_ago(100 + n),
            )
            for n, mentee in enumerate(mentees)
        )
        for index, relationship in enumerate(relationships):
            agreement(relationship, 1, signed=True)
            agreement(relationship, 2, sent=index % 2 == 0)
        group = log_session(cast, relationships, held_on=days_ago(50))
        for relationship in relationships:
            log_session(cast, [relationship], held_on=days_ago(20 + offset % 40))
    return relationships, group


@pytest.mark.parametrize("person", ["owner", "colleague", "mentor"])
def test_the_overview_runs_as_many_queries_for_150_relationships_as_for_5(client, cast, person):
    client.force_login(getattr(cast, person))
    bulk_open_relationships(cast, 5)
    client.get(url("relationship_list"))
    with CaptureQueriesContext(connection) as few:
        response = client.get(url("relationship_list"))
    assert len(response.context["page"]) == 5
    bulk_open_relationships(cast, 145, offset=5)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("relationship_list"))
        assert len(response.context["page"]) == 50
        assert all(r.sessions_count == 2 for r in response.context["page"])
    assert len(many.captured_queries) == len(few.captured_queries)


# --- The inactivity nudge ---------------------------------------------------------------


def nudges_to(address):
    return [m for m in mail.outbox if m.to == [address] and "gentle reminder" in m.subject]


def test_a_quiet_relationship_nudges_its_mentor_once_however_often_the_job_runs(cast, pair):
    assert tasks.nudge_inactive_mentors.delay().get() == 1
    assert tasks.nudge_inactive_mentors.delay().get() == 0
    tasks.nudge_inactive_mentors()
    [message] = nudges_to("mentor@home.test")
    assert "Home Mentee" in message.body
    assert "60 days" in message.body
    assert url("relationship_detail", pair.pk) in message.body
    with scopes_disabled():
        [nudge] = InactivityNudge.objects.filter(relationship=pair)
    assert nudge.gap_since == pair.started_on
    assert nudge.sent_at is not None


def test_a_new_session_starts_a_new_gap_which_earns_its_own_nudge(cast, pair):
    tasks.nudge_inactive_mentors()
    log_session(cast, [pair], held_on=days_ago(20))
    tasks.nudge_inactive_mentors()
    assert len(nudges_to("mentor@home.test")) == 1
    with scope(organisation=cast.org):
        later = TODAY() + datetime.timedelta(days=25)
        assert tasks.nudge_organisation(cast.org, today=later) == 1
        assert tasks.nudge_organisation(cast.org, today=later) == 0
    assert len(nudges_to("mentor@home.test")) == 2
    with scopes_disabled():
        gaps = sorted(InactivityNudge.objects.filter(relationship=pair).values_list("gap_since"))
    assert gaps == [(pair.started_on,), (days_ago(20),)]


def test_a_nudge_another_worker_claimed_is_not_sent_again(cast, pair):
    with scopes_disabled():
        InactivityNudge.objects.create(
            relationship=pair, gap_since=pair.started_on, sent_at=timezone.now()
        )
    assert tasks.nudge_inactive_mentors() == 0
    assert nudges_to("mentor@home.test") == []


def test_two_workers_claiming_the_same_nudge_send_it_once(cast, pair):
    """Both created (or found) the row; the conditional UPDATE lets only one through."""
    with scopes_disabled():
        nudge = InactivityNudge.objects.create(relationship=pair, gap_since=pair.started_on)
    now = timezone.now()
    with scope(organisation=cast.org):
        assert tasks.claim_nudge(nudge.pk, now) is True
        assert tasks.claim_nudge(nudge.pk, now) is False
    assert tasks.nudge_inactive_mentors() == 0
    assert nudges_to("mentor@home.test") == []


def test_a_nudge_left_unclaimed_by_a_worker_that_died_is_sent_once(cast, pair):
    with scopes_disabled():
        InactivityNudge.objects.create(relationship=pair, gap_since=pair.started_on)
    assert tasks.nudge_inactive_mentors() == 1
    assert tasks.nudge_inactive_mentors() == 0
    assert len(nudges_to("mentor@home.test")) == 1


def test_a_failed_send_leaves_the_nudge_for_the_next_run(cast, pair, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.send_mail", refuse)
    with scope(organisation=cast.org), pytest.raises(OSError):
        tasks.nudge_organisation(cast.org)
    with scopes_disabled():
        assert not InactivityNudge.objects.filter(sent_at__isnull=False).exists()
    monkeypatch.undo()
    assert tasks.nudge_inactive_mentors() == 1


def test_no_nudge_before_the_gap_is_reached_or_for_closed_relationships(cast, pair):
    log_session(cast, [pair], held_on=days_ago(44))
    RelationshipFactory(
        mentee=MenteeFactory(programme=cast.programme, trust=cast.trust),
        mentor=cast.mentor_record,
        stage=STAGE.CLOSED,
        started_on=days_ago(300),
    )
    assert tasks.nudge_inactive_mentors() == 0
    with scope(organisation=cast.org):
        assert tasks.nudge_organisation(cast.org, today=TODAY() + datetime.timedelta(days=1)) == 1


def test_the_job_visits_every_organisation(cast, pair):
    foreign = RelationshipFactory(
        mentee=cast.foreign_mentee, mentor=foreign_mentor(cast), started_on=days_ago(200)
    )
    assert tasks.nudge_inactive_mentors() == 2
    assert len(nudges_to("admin@other.test")) == 1
    with scopes_disabled():
        assert InactivityNudge.objects.filter(relationship=foreign).count() == 1


def test_the_nudge_runs_every_morning():
    entry = settings.CELERY_BEAT_SCHEDULE["nudge-inactive-mentors"]
    assert entry["task"] == "mentoring.tasks.nudge_inactive_mentors"
    schedule = entry["schedule"]
    assert schedule.hour == {8} and schedule.minute == {0}


# --- Another programme's settings -------------------------------------------------------


def test_a_second_programme_with_a_shorter_gap_flags_sooner(client, cast, pair):
    programme = ProgrammeFactory(organisation=cast.org, name="Short gaps", inactivity_days=14)
    trust = TrustFactory(organisation=cast.org)
    mentor = MentorFactory(programme=programme, user=cast.mentor, trust=trust)
    short = RelationshipFactory(
        mentee=MenteeFactory(programme=programme, trust=cast.trust),
        mentor=mentor,
        started_on=days_ago(15),
    )
    client.force_login(cast.colleague)
    listed = rows(client.get(url("relationship_list")))
    assert listed[short.pk].needs_attention is True
    assert listed[pair.pk].needs_attention is True
    assert tasks.nudge_inactive_mentors() == 2


# --- Demo data --------------------------------------------------------------------------


def test_the_demo_seed_ticks_match_each_stage_and_running_it_again_changes_nothing():
    from demo import papers_stages

    call_command("seed_demo")
    with scopes_disabled():
        programme = Programme.objects.get(name="WCA Legacy Mentor Pilot")
    organisation = programme.organisation
    with scope(organisation=organisation):
        papers_stages.seed(programme)
        counts = (
            ChecklistTick.objects.count(),
            SupportResource.objects.count(),
            sorted(Relationship.objects.values_list("pk", "stage", "closure_kind")),
        )
        papers_stages.seed(programme)
        assert counts == (
            ChecklistTick.objects.count(),
            SupportResource.objects.count(),
            sorted(Relationship.objects.values_list("pk", "stage", "closure_kind")),
        )
        relationships = list(Relationship.objects.filter(programme=programme))
        for relationship in relationships:
            stage = relationship.stage
            # The ticks never complete the stage a relationship is in.
            assert checklist.advance_if_complete(relationship) == stage
            for tick in relationship.ticks.all():
                assert relationship.started_on <= tick.done_on <= TODAY()
        closed = [r for r in relationships if r.stage == STAGE.CLOSED]
        assert closed
        assert all(r.closure_kind and r.continuing_informally is not None for r in closed)
        assert all(r.ticks.count() == len(CHECKLIST) for r in closed)
        resources = list(SupportResource.objects.filter(organisation=organisation))
        assert {r.category for r in resources} == set(SupportResource.Category.values)
        assert any(r.trust_id is None for r in resources)
        assert any(r.trust_id is not None for r in resources)
        hosts = {urlparse(r.url).hostname for r in resources if r.url}
        assert all(host == "www.nhs.uk" or host.endswith(".example.org") for host in hosts)


def test_more_programmes_add_no_queries_to_the_overview(client, cast, pair):
    client.force_login(cast.owner)
    client.get(url("relationship_list"))
    with CaptureQueriesContext(connection) as one:
        client.get(url("relationship_list"), {"attention": "on"})
    for number in range(3):
        ProgrammeFactory(organisation=cast.org, name=f"Extra {number}", inactivity_days=20)
    with CaptureQueriesContext(connection) as four:
        response = client.get(url("relationship_list"), {"attention": "on"})
    assert set(rows(response)) == {pair.pk}
    assert len(four.captured_queries) == len(one.captured_queries)
