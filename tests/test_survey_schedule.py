"""The survey schedule: rules, the invitations they make as waves fall due, the standard
schedule, and the wave dashboard with its resend button."""

from __future__ import annotations

import datetime
import threading

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import Count, Max, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.models import Mentee, Relationship
from mentoring.pseudonyms import line_manager_key, mentee_key, mentor_key
from programmes.models import AuditEvent, Milestone, Programme
from surveys import scheduling, views_schedule
from surveys.instruments import default_instrument
from surveys.models import (
    Audience,
    Instrument,
    InstrumentVersion,
    ScheduleRule,
    SurveyInvitation,
    SurveySend,
)

from .factories import CohortFactory, MenteeFactory, MentorFactory, ProgrammeFactory
from .factories_matching import RelationshipFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)
NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 30))


# --- Helpers shared with the sending and worker tests -----------------------------------


def make_rule(
    programme,
    wave: str = "starter",
    kind: str = Instrument.Kind.MENTEE_STARTER,
    **fields,
) -> ScheduleRule:
    with scopes_disabled():
        instrument = default_instrument(programme, kind)
        values = {
            "audience": instrument.audience,
            "reminder_days": [7, 14],
            "max_reminders": 2,
            "days_to_complete": 28,
        } | fields
        return ScheduleRule.objects.create(
            programme=programme, instrument=instrument, wave=wave, **values
        )


def pair(cast, mentee=None, *, started_on=TODAY, **fields) -> Relationship:
    mentee = mentee or cast.mentee_record
    return RelationshipFactory(
        mentee=mentee,
        mentor=fields.pop("mentor", cast.mentor_record),
        started_on=started_on,
        **fields,
    )


def create(programme, today=TODAY, now=None) -> int:
    now = now or timezone.make_aware(datetime.datetime.combine(today, datetime.time(10, 30)))
    with scope(organisation=programme.organisation):
        return scheduling.create_due_invitations(programme, today, now=now)


def invitations(programme):
    with scopes_disabled():
        return list(
            SurveyInvitation.objects.filter(programme=programme)
            .select_related("mentee", "mentor", "relationship", "version")
            .order_by("pk")
        )


def local(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


# --- Making invitations ------------------------------------------------------------------


def test_a_starter_invitation_is_made_on_the_match_date_with_its_reminders(cast):
    rule = make_rule(cast.programme)
    relationship = pair(cast)
    assert create(cast.programme, now=NOW) == 1
    [invitation] = invitations(cast.programme)
    with scopes_disabled():
        latest = InstrumentVersion.objects.filter(instrument=rule.instrument).order_by("-number")[0]
        assert invitation.key == f"starter:mentee:{cast.mentee_record.pk}:{relationship.pk}"
        assert invitation.version == latest
        assert invitation.rule == rule
        assert invitation.wave == "starter"
        assert invitation.audience == Audience.MENTEE
        assert invitation.mentee == cast.mentee_record
        assert invitation.mentor is None
        assert invitation.relationship == relationship
        assert invitation.email == cast.mentee_record.email
        assert invitation.pseudonym == mentee_key(cast.mentee_record)
        assert invitation.due_on == TODAY
        assert invitation.expires_on == TODAY + datetime.timedelta(days=28)
        assert invitation.channel == SurveyInvitation.Channel.EMAIL
        sends = list(invitation.sends.order_by("number").values_list("number", "due_at", "sent_at"))
    assert sends == [
        (0, NOW, None),
        (1, local(TODAY + datetime.timedelta(days=7)), None),
        (2, local(TODAY + datetime.timedelta(days=14)), None),
    ]


def test_nothing_is_made_before_a_wave_is_due_and_it_is_made_on_the_day(cast):
    make_rule(cast.programme, "midpoint", Instrument.Kind.MENTEE_MIDPOINT, offset_months=6)
    pair(cast, started_on=TODAY)
    assert create(cast.programme, TODAY) == 0
    assert create(cast.programme, TODAY + relativedelta(months=6) - datetime.timedelta(days=1)) == 0
    assert create(cast.programme, TODAY + relativedelta(months=6)) == 1
    [invitation] = invitations(cast.programme)
    assert invitation.due_on == datetime.date(2026, 9, 2)


def test_months_and_days_add_up_from_the_anchor(cast):
    make_rule(cast.programme, "odd", offset_months=1, offset_days=10)
    pair(cast, started_on=datetime.date(2026, 1, 31))
    assert create(cast.programme, datetime.date(2026, 3, 10)) == 1
    assert invitations(cast.programme)[0].due_on == datetime.date(2026, 3, 10)


def test_a_wave_whose_days_to_complete_have_passed_is_never_made(cast):
    make_rule(cast.programme, days_to_complete=28)
    pair(cast, started_on=TODAY - datetime.timedelta(days=29))
    assert create(cast.programme) == 0
    assert invitations(cast.programme) == []


def test_an_invitation_made_late_counts_its_reminders_from_the_day_it_goes(cast):
    make_rule(cast.programme)
    pair(cast, started_on=TODAY - datetime.timedelta(days=10))
    assert create(cast.programme, now=NOW) == 1
    [invitation] = invitations(cast.programme)
    assert invitation.due_on == TODAY - datetime.timedelta(days=10)
    assert invitation.expires_on == TODAY + datetime.timedelta(days=18)
    with scopes_disabled():
        due = list(invitation.sends.order_by("number").values_list("due_at", flat=True))
    assert due == [
        NOW,
        local(TODAY + datetime.timedelta(days=7)),
        local(TODAY + datetime.timedelta(days=14)),
    ]


def test_running_twice_makes_each_invitation_once(cast):
    make_rule(cast.programme)
    make_rule(cast.programme, "mentor_interim", Instrument.Kind.MENTOR_INTERIM)
    pair(cast)
    pair(cast, cast.mentee_other_trust)
    assert create(cast.programme) == 4
    assert create(cast.programme) == 0
    assert len(invitations(cast.programme)) == 4
    with scopes_disabled():
        assert SurveySend.objects.filter(invitation__programme=cast.programme).count() == 12


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_make_each_invitation_once(cast):
    make_rule(cast.programme)
    for _ in range(6):
        pair(cast, MenteeFactory(programme=cast.programme, trust=cast.trust))
    barrier = threading.Barrier(3)
    # SQLite lets one writer in at a time; there the runs take turns.
    turns = threading.Lock() if connection.vendor == "sqlite" else None
    made: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            if turns:
                turns.acquire()
            try:
                made.append(create(cast.programme))
            finally:
                if turns:
                    turns.release()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(made) == 6
    assert len(invitations(cast.programme)) == 6
    with scopes_disabled():
        assert SurveySend.objects.filter(invitation__programme=cast.programme).count() == 18


def test_an_invitation_made_by_another_run_in_between_is_skipped_quietly(cast):
    rule = make_rule(cast.programme)
    relationship = pair(cast)
    with scope(organisation=cast.org):
        version = rule.instrument.versions.order_by("-number").first()
        person = next(scheduling.people_for(rule, relationship))
        first = scheduling.invite(rule, version, relationship, person, TODAY, now=NOW)
        second = scheduling.invite(rule, version, relationship, person, TODAY, now=NOW)
    assert first is not None
    assert second is None
    assert len(invitations(cast.programme)) == 1


def test_withdrawn_mentees_and_relationships_that_never_ran_get_no_invitation(cast):
    make_rule(cast.programme)
    withdrawn = MenteeFactory(programme=cast.programme, trust=cast.trust)
    pair(cast, withdrawn)
    with scopes_disabled():
        Mentee.objects.filter(pk=withdrawn.pk).update(status=Mentee.Status.WITHDRAWN)
    pair(cast, stage=Relationship.Stage.DECLINED)
    pair(cast, cast.mentee_other_trust, stage=Relationship.Stage.REMATCHED)
    assert create(cast.programme) == 0


def test_closed_relationships_still_get_their_later_waves(cast):
    make_rule(cast.programme, "follow_up_3", Instrument.Kind.FOLLOW_UP, offset_months=15)
    started = TODAY - relativedelta(months=15)
    pair(
        cast,
        started_on=started,
        stage=Relationship.Stage.CLOSED,
        ended_on=TODAY - relativedelta(months=3),
    )
    assert create(cast.programme) == 1


def test_a_mentor_wave_invites_the_mentor_of_each_relationship(cast):
    make_rule(cast.programme, "mentor_interim", Instrument.Kind.MENTOR_INTERIM)
    relationship = pair(cast)
    assert create(cast.programme) == 1
    [invitation] = invitations(cast.programme)
    assert invitation.audience == Audience.MENTOR
    assert invitation.mentor == cast.mentor_record
    assert invitation.mentee is None
    assert invitation.email == cast.mentor.email
    assert invitation.pseudonym == mentor_key(cast.mentor_record)
    assert invitation.key == f"mentor_interim:mentor:{cast.mentor_record.pk}:{relationship.pk}"


def test_a_line_manager_wave_invites_the_line_manager_when_their_address_is_known(cast):
    make_rule(cast.programme, "line_manager", Instrument.Kind.LINE_MANAGER)
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(
            line_manager_name="Lena Manager", line_manager_email="Lena.Manager@home.test"
        )
    relationship = pair(cast)
    pair(cast, cast.mentee_other_trust)  # no line manager address: nobody to ask
    assert create(cast.programme) == 1
    [invitation] = invitations(cast.programme)
    assert invitation.audience == Audience.LINE_MANAGER
    assert invitation.email == "Lena.Manager@home.test"
    assert invitation.pseudonym == line_manager_key(cast.org, "lena.manager@home.test")
    # Keyed by the mentee they manage, but the invitation is not the mentee's.
    assert invitation.key == f"line_manager:line_manager:{cast.mentee_record.pk}:{relationship.pk}"
    assert invitation.mentee is None
    assert invitation.relationship == relationship


def test_the_programme_start_is_its_first_cohort_start_or_else_the_day_it_was_set_up(cast):
    make_rule(
        cast.programme, "baseline", anchor=ScheduleRule.Anchor.PROGRAMME_START, offset_months=1
    )
    pair(cast, started_on=TODAY - relativedelta(months=3))
    with scopes_disabled():
        Programme.objects.filter(pk=cast.programme.pk).update(
            created_at=local(TODAY - relativedelta(months=1))
        )
        cast.programme.refresh_from_db()
    assert create(cast.programme, TODAY - datetime.timedelta(days=1)) == 0
    assert create(cast.programme, TODAY) == 1
    assert invitations(cast.programme)[0].due_on == TODAY

    other = ProgrammeFactory(organisation=cast.org, name="With cohorts")
    CohortFactory(programme=other, starts_on=datetime.date(2026, 1, 20))
    CohortFactory(programme=other, starts_on=datetime.date(2026, 1, 5))
    CohortFactory(programme=other, starts_on=None)
    make_rule(other, "baseline", anchor=ScheduleRule.Anchor.PROGRAMME_START, offset_months=1)
    mentee = MenteeFactory(programme=other, trust=cast.trust)
    mentor = MentorFactory(programme=other, user=cast.mentor, trust=cast.trust)
    pair(cast, mentee, mentor=mentor)
    assert create(other, datetime.date(2026, 2, 5)) == 1
    assert invitations(other)[0].due_on == datetime.date(2026, 2, 5)


def test_a_milestone_wave_counts_from_that_milestone_in_the_mentees_cohort(cast):
    cohort = CohortFactory(programme=cast.programme)
    with scopes_disabled():
        Milestone.objects.create(
            cohort=cohort,
            kind=Milestone.Kind.INTERIM_EVALUATION,
            due_on=TODAY - datetime.timedelta(days=2),
        )
        Milestone.objects.create(
            cohort=cohort,
            kind=Milestone.Kind.INTERIM_EVALUATION,
            due_on=TODAY + datetime.timedelta(days=30),
        )
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(cohort=cohort)
    make_rule(
        cast.programme,
        "interim",
        Instrument.Kind.MENTEE_MIDPOINT,
        anchor=ScheduleRule.Anchor.MILESTONE,
        milestone_kind=Milestone.Kind.INTERIM_EVALUATION,
    )
    pair(cast)
    pair(cast, cast.mentee_other_trust)  # in no cohort: the wave has no date for them
    assert create(cast.programme) == 1
    [invitation] = invitations(cast.programme)
    assert invitation.mentee == cast.mentee_record
    assert invitation.due_on == TODAY - datetime.timedelta(days=2)


def test_a_switched_off_rule_makes_nothing(cast):
    make_rule(cast.programme, active=False)
    pair(cast)
    assert create(cast.programme) == 0


def test_reminders_keep_to_the_most_allowed_and_to_the_days_to_answer(cast):
    make_rule(cast.programme, reminder_days=[3, 7, 14, 21], max_reminders=3, days_to_complete=10)
    pair(cast)
    create(cast.programme)
    [invitation] = invitations(cast.programme)
    with scopes_disabled():
        numbers = list(invitation.sends.order_by("number").values_list("number", "due_at"))
    # 14 and 21 fall after the survey closes; 3 and 7 are within the most allowed.
    assert numbers == [
        (0, numbers[0][1]),
        (1, local(TODAY + datetime.timedelta(days=3))),
        (2, local(TODAY + datetime.timedelta(days=7))),
    ]


def test_the_newest_version_of_the_instrument_is_sent(cast):
    rule = make_rule(cast.programme)
    with scopes_disabled():
        newest = InstrumentVersion.objects.create(instrument=rule.instrument, number=7)
    pair(cast)
    create(cast.programme)
    assert invitations(cast.programme)[0].version == newest


def test_making_one_programmes_invitations_leaves_the_other_organisation_alone(cast):
    make_rule(cast.programme)
    make_rule(cast.other_programme)
    pair(cast)
    create(cast.programme)
    assert invitations(cast.other_programme) == []


# --- The standard schedule ----------------------------------------------------------------


def test_the_standard_schedule_adds_every_wave_with_default_instruments(cast):
    with scope(organisation=cast.org):
        added = scheduling.add_standard_schedule(cast.programme, actor=cast.owner)
    assert added == [
        "starter",
        "midpoint",
        "closure",
        "follow_up_3",
        "follow_up_6",
        "follow_up_12",
        "mentor_interim",
        "mentor_closure",
    ]
    with scopes_disabled():
        rules = {
            r.wave: r
            for r in ScheduleRule.objects.filter(programme=cast.programme).select_related(
                "instrument"
            )
        }
    expected = {
        "starter": (Instrument.Kind.MENTEE_STARTER, Audience.MENTEE, 0),
        "midpoint": (Instrument.Kind.MENTEE_MIDPOINT, Audience.MENTEE, 6),
        "closure": (Instrument.Kind.MENTEE_CLOSURE, Audience.MENTEE, 12),
        "follow_up_3": (Instrument.Kind.FOLLOW_UP, Audience.MENTEE, 15),
        "follow_up_6": (Instrument.Kind.FOLLOW_UP, Audience.MENTEE, 18),
        "follow_up_12": (Instrument.Kind.FOLLOW_UP, Audience.MENTEE, 24),
        "mentor_interim": (Instrument.Kind.MENTOR_INTERIM, Audience.MENTOR, 6),
        "mentor_closure": (Instrument.Kind.MENTOR_CLOSURE, Audience.MENTOR, 12),
    }
    for wave, (kind, audience, months) in expected.items():
        rule = rules[wave]
        assert (rule.instrument.kind, rule.audience, rule.offset_months) == (kind, audience, months)
        assert rule.anchor == ScheduleRule.Anchor.MATCH
        assert rule.reminder_days == [7, 14]
        assert rule.max_reminders == 2
        assert rule.instrument.programme_id == cast.programme.pk
    with scopes_disabled():
        assert AuditEvent.objects.filter(object_type="schedule rule").count() == 8


def test_the_standard_schedule_leaves_waves_already_there_alone(cast):
    make_rule(
        cast.programme, "midpoint", Instrument.Kind.MENTEE_MIDPOINT, offset_months=5, active=False
    )
    with scope(organisation=cast.org):
        added = scheduling.add_standard_schedule(cast.programme)
        assert "midpoint" not in added
        assert scheduling.add_standard_schedule(cast.programme) == []
        midpoint = cast.programme.schedule_rules.get(wave="midpoint")
    assert (midpoint.offset_months, midpoint.active) == (5, False)


def test_the_standard_schedule_follows_the_programmes_relationship_length(cast):
    with scopes_disabled():
        Programme.objects.filter(pk=cast.programme.pk).update(relationship_months=18)
        cast.programme.refresh_from_db()
    months = {w.wave: w.months for w in scheduling.standard_waves(cast.programme)}
    assert months["midpoint"] == 9
    assert months["closure"] == 18
    assert months["follow_up_12"] == 30


def test_the_standard_schedule_sends_the_starter_at_match_and_the_midpoints_six_months_on(cast):
    with scope(organisation=cast.org):
        scheduling.add_standard_schedule(cast.programme)
    pair(cast, started_on=TODAY)
    assert create(cast.programme, TODAY) == 1
    assert [i.wave for i in invitations(cast.programme)] == ["starter"]
    assert create(cast.programme, TODAY + relativedelta(months=6)) == 2
    assert sorted(i.wave for i in invitations(cast.programme)[1:]) == ["mentor_interim", "midpoint"]
    assert create(cast.programme, TODAY + relativedelta(months=15)) == 1
    assert invitations(cast.programme)[-1].wave == "follow_up_3"


# --- Describing rules ---------------------------------------------------------------------


def test_rules_are_described_in_plain_words(cast):
    rule = ScheduleRule(
        offset_months=6,
        anchor=ScheduleRule.Anchor.MATCH,
        reminder_days=[14, 7],
        max_reminders=2,
        days_to_complete=28,
    )
    assert scheduling.describe_timing(rule) == "6 months after the match date"
    assert scheduling.describe_reminders(rule) == "After 7 and 14 days"
    rule = ScheduleRule(
        offset_months=1,
        offset_days=1,
        anchor=ScheduleRule.Anchor.MILESTONE,
        milestone_kind=Milestone.Kind.INTERIM_EVALUATION,
        reminder_days=[],
        days_to_complete=28,
    )
    assert (
        scheduling.describe_timing(rule)
        == "1 month and 1 day after the cohort's interim evaluation"
    )
    assert scheduling.describe_reminders(rule) == "No reminders"
    rule = ScheduleRule(
        anchor=ScheduleRule.Anchor.PROGRAMME_START,
        reminder_days=[7],
        max_reminders=1,
        days_to_complete=28,
    )
    assert scheduling.describe_timing(rule) == "On the programme start"
    assert scheduling.describe_reminders(rule) == "After 7 days"


# --- The schedule pages ----------------------------------------------------------------


def schedule_url(cast, name="surveys:schedule", **kwargs):
    return reverse(
        name,
        kwargs={"organisation_slug": cast.org.slug, "programme_pk": cast.programme.pk, **kwargs},
    )


def rule_data(**overrides) -> dict:
    with scopes_disabled():
        instrument = Instrument.objects.filter(kind=Instrument.Kind.MENTOR_CLOSURE).first()
    data = {
        "wave": "mentor_exit",
        "instrument": instrument.pk,
        "anchor": ScheduleRule.Anchor.MATCH,
        "milestone_kind": "",
        "offset_months": "12",
        "offset_days": "0",
        "reminder_days": "5, 10",
        "max_reminders": "2",
        "days_to_complete": "21",
    }
    return data | overrides


def test_the_schedule_lists_each_wave_in_plain_words(client, cast):
    make_rule(cast.programme, "midpoint", Instrument.Kind.MENTEE_MIDPOINT, offset_months=6)
    make_rule(cast.programme, "old", active=False)
    client.force_login(cast.owner)
    page = client.get(schedule_url(cast)).content.decode()
    assert "midpoint" in page
    assert "6 months after the match date" in page
    assert "After 7 and 14 days" in page
    assert 'Switch off<span class="nhsuk-u-visually-hidden"> wave midpoint</span>' in page
    assert 'Switch on<span class="nhsuk-u-visually-hidden"> wave old</span>' in page
    assert "Use the standard schedule" in page


def test_the_schedule_runs_the_same_queries_for_two_waves_or_twenty(client, cast):
    client.force_login(cast.owner)
    make_rule(cast.programme, "w0")
    make_rule(cast.programme, "w1")
    with CaptureQueriesContext(connection) as few:
        client.get(schedule_url(cast))
    for number in range(2, 20):
        make_rule(cast.programme, f"w{number}", offset_months=number)
    with CaptureQueriesContext(connection) as many:
        assert client.get(schedule_url(cast)).status_code == 200
    assert len(many) == len(few)


def test_admin_adds_a_wave_whose_audience_follows_the_survey(client, cast):
    client.force_login(cast.owner)
    response = client.post(schedule_url(cast, "surveys:schedule_rule_create"), rule_data())
    assert response.status_code == 302
    with scopes_disabled():
        rule = ScheduleRule.objects.get(programme=cast.programme, wave="mentor_exit")
        assert AuditEvent.objects.filter(object_type="schedule rule", action="create").exists()
    assert rule.audience == Audience.MENTOR
    assert rule.reminder_days == [5, 10]
    assert (rule.offset_months, rule.days_to_complete, rule.milestone_kind) == (12, 21, "")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"wave": ""}, "Enter a name for the wave"),
        ({"wave": "Mentor exit!"}, "Wave name must use only lower case letters"),
        ({"wave": "starter"}, "This programme already has a wave called starter"),
        ({"instrument": ""}, "Select the survey to send"),
        (
            {"anchor": ScheduleRule.Anchor.MILESTONE},
            "Select the cohort milestone the wave counts from",
        ),
        ({"reminder_days": "7, soon"}, "Enter reminder days as whole numbers"),
        ({"reminder_days": "7, 21"}, "each must be under 21 days"),
        ({"offset_months": "-1"}, "Months after must be between 0 and 60 months"),
        ({"days_to_complete": "0"}, "Days to answer must be between 1 and 365 days"),
    ],
)
def test_a_wave_with_a_mistake_is_not_saved_and_keeps_what_was_typed(
    client, cast, overrides, message
):
    make_rule(cast.programme)
    client.force_login(cast.owner)
    response = client.post(
        schedule_url(cast, "surveys:schedule_rule_create"), rule_data(**overrides)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "nhsuk-error-summary" in page
    kept = "12" if "offset_months" not in overrides else "21"
    assert f'value="{kept}"' in page
    with scopes_disabled():
        assert not ScheduleRule.objects.filter(wave="mentor_exit").exists()


def test_a_survey_of_another_programme_cannot_be_chosen(client, cast):
    with scopes_disabled():
        foreign = Instrument.objects.filter(programme=cast.other_programme).first()
    client.force_login(cast.owner)
    response = client.post(
        schedule_url(cast, "surveys:schedule_rule_create"), rule_data(instrument=foreign.pk)
    )
    assert response.status_code == 200
    with scopes_disabled():
        assert not ScheduleRule.objects.filter(wave="mentor_exit").exists()


def test_a_milestone_wave_keeps_its_milestone(client, cast):
    client.force_login(cast.owner)
    client.post(
        schedule_url(cast, "surveys:schedule_rule_create"),
        rule_data(anchor=ScheduleRule.Anchor.MILESTONE, milestone_kind=Milestone.Kind.CHECK_IN),
    )
    with scopes_disabled():
        rule = ScheduleRule.objects.get(wave="mentor_exit")
    assert (rule.anchor, rule.milestone_kind) == (
        ScheduleRule.Anchor.MILESTONE,
        Milestone.Kind.CHECK_IN,
    )


def test_admin_changes_a_wave_but_not_its_name_once_it_has_invitations(client, cast):
    rule = make_rule(cast.programme)
    pair(cast, started_on=timezone.localdate())
    create(cast.programme, timezone.localdate())
    client.force_login(cast.owner)
    url = schedule_url(cast, "surveys:schedule_rule_edit", pk=rule.pk)
    assert "cannot be changed" in client.get(url).content.decode()
    starter = Instrument.Kind.MENTEE_STARTER
    with scopes_disabled():
        instrument = Instrument.objects.get(programme=cast.programme, kind=starter)
    response = client.post(
        url,
        rule_data(wave="renamed", instrument=instrument.pk, reminder_days="3", max_reminders="1"),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.wave == "starter"
    assert rule.reminder_days == [3]
    assert rule.max_reminders == 1
    with scopes_disabled():
        assert AuditEvent.objects.filter(object_type="schedule rule", action="change").exists()


def test_switching_a_wave_off_and_on_is_a_button(client, cast):
    rule = make_rule(cast.programme)
    client.force_login(cast.owner)
    off = schedule_url(cast, "surveys:schedule_rule_deactivate", pk=rule.pk)
    assert client.get(off).status_code == 302
    rule.refresh_from_db()
    assert rule.active
    assert client.post(off).status_code == 302
    rule.refresh_from_db()
    assert not rule.active
    client.post(schedule_url(cast, "surveys:schedule_rule_activate", pk=rule.pk))
    rule.refresh_from_db()
    assert rule.active


def test_the_standard_schedule_page_shows_what_it_adds_then_adds_it(client, cast):
    make_rule(cast.programme)
    client.force_login(cast.owner)
    url = schedule_url(cast, "surveys:schedule_standard")
    page = client.get(url).content.decode()
    assert "Already in the schedule, so not added" in page
    assert "Add 7 waves" in page
    response = client.post(url, follow=True)
    assert "7 standard waves added" in response.content.decode()
    with scopes_disabled():
        assert ScheduleRule.objects.filter(programme=cast.programme).count() == 8
    assert "The schedule already has every standard wave." in client.get(url).content.decode()


# --- The waves --------------------------------------------------------------------------


def states(cast, today):
    """One starter invitation per state: sent, opened, reminded, overdue, completed, expired,
    and one not sent yet; returns {state: invitation}."""
    make_rule(cast.programme)
    now = timezone.now()
    made = {}
    for index, state in enumerate(
        ["waiting", "sent", "opened", "reminded", "overdue", "completed", "expired"]
    ):
        mentee = MenteeFactory(programme=cast.programme, trust=cast.trust)
        started = today - datetime.timedelta(days=40 if state == "expired" else index)
        relationship = pair(cast, mentee, started_on=started)
        with scope(organisation=cast.org):
            rule = cast.programme.schedule_rules.get(wave="starter")
            version = rule.instrument.versions.order_by("-number").first()
            person = next(scheduling.people_for(rule, relationship))
            invitation = scheduling.invite(rule, version, relationship, person, started, now=now)
            sends = invitation.sends.order_by("number")
            if state != "waiting":
                sends.filter(number=0).update(sent_at=now)
            if state in ("reminded", "overdue"):
                sends.filter(number=1).update(sent_at=now)
            if state == "overdue":
                sends.filter(number=2).update(sent_at=now)
            if state == "opened":
                SurveyInvitation.objects.filter(pk=invitation.pk).update(opened_at=now)
            if state == "completed":
                SurveyInvitation.objects.filter(pk=invitation.pk).update(
                    opened_at=now, completed_at=now
                )
        made[state] = invitation
    return made


def test_the_waves_page_counts_invited_opened_completed_overdue_and_expired(client, cast):
    states(cast, timezone.localdate())
    make_rule(cast.programme, "midpoint", Instrument.Kind.MENTEE_MIDPOINT, offset_months=6)
    client.force_login(cast.evaluator)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(schedule_url(cast, "surveys:waves"))
    assert response.status_code == 200
    rows = {row["wave"]: row for row in response.context["rows"]}
    starter = rows["starter"]
    assert (starter["invited"], starter["opened"], starter["completed"]) == (7, 2, 1)
    assert (starter["overdue"], starter["expired"], starter["rate"]) == (1, 1, 14)
    assert rows["midpoint"]["invited"] == 0
    assert rows["midpoint"]["rate"] is None
    counting = [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counting) == 1


def test_the_waves_page_runs_the_same_queries_for_few_or_many_invitations(client, cast):
    client.force_login(cast.owner)
    make_rule(cast.programme)
    make_rule(cast.programme, "mentor_interim", Instrument.Kind.MENTOR_INTERIM)
    pair(cast)
    create(cast.programme, TODAY)
    with CaptureQueriesContext(connection) as few:
        client.get(schedule_url(cast, "surveys:waves"))
    for _ in range(10):
        pair(cast, MenteeFactory(programme=cast.programme, trust=cast.trust))
    make_rule(cast.programme, "closure", Instrument.Kind.MENTEE_CLOSURE)
    create(cast.programme, TODAY)
    with CaptureQueriesContext(connection) as many:
        client.get(schedule_url(cast, "surveys:waves"))
    assert len(many) == len(few)


def test_a_wave_lists_its_invitations_by_pseudonym_with_their_state(client, cast):
    made = states(cast, timezone.localdate())
    client.force_login(cast.owner)
    response = client.get(schedule_url(cast, "surveys:wave_detail", wave="starter"))
    page = response.content.decode()
    labels = {i.pk: i.status_label for i in response.context["page"]}
    assert labels == {
        made["waiting"].pk: "Waiting to send",
        made["sent"].pk: "Sent",
        made["opened"].pk: "Opened",
        made["reminded"].pk: "Reminded",
        made["overdue"].pk: "Overdue",
        made["completed"].pk: "Completed",
        made["expired"].pk: "Expired",
    }
    for invitation in made.values():
        assert invitation.pseudonym in page
        assert invitation.mentee.full_name not in page
        assert invitation.email not in page
    resendable = {i.pk for i in response.context["page"] if i.can_resend}
    # Not answered ones still open, and none with an e-mail already waiting to go.
    assert resendable == {made[s].pk for s in ("sent", "opened", "reminded", "overdue")}
    assert page.count("Resend<span") == 4


def test_evaluators_read_a_wave_without_a_resend_button(client, cast):
    states(cast, timezone.localdate())
    client.force_login(cast.evaluator)
    page = client.get(schedule_url(cast, "surveys:wave_detail", wave="starter")).content.decode()
    assert "Invitations of wave starter" in page
    assert "Resend" not in page


def test_a_wave_page_runs_the_same_queries_for_few_or_many_invitations(client, cast):
    client.force_login(cast.owner)
    make_rule(cast.programme)
    pair(cast)
    create(cast.programme, TODAY)
    url = schedule_url(cast, "surveys:wave_detail", wave="starter")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(12):
        pair(cast, MenteeFactory(programme=cast.programme, trust=cast.trust))
    create(cast.programme, TODAY)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).context["page"]) == 13
    assert len(many) == len(few)


def test_a_wave_nobody_has_is_not_found(client, cast):
    client.force_login(cast.owner)
    assert client.get(schedule_url(cast, "surveys:wave_detail", wave="nothing")).status_code == 404


def test_resend_adds_an_email_due_now_and_sends_it_once_the_change_is_saved(
    client, cast, mailoutbox, django_capture_on_commit_callbacks
):
    made = states(cast, timezone.localdate())
    invitation = made["overdue"]
    client.force_login(cast.owner)
    url = schedule_url(cast, "surveys:invitation_resend", pk=invitation.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "will be sent again" in response.content.decode()
    with scopes_disabled():
        last = invitation.sends.order_by("-number").first()
        assert AuditEvent.objects.filter(object_type="survey send").count() == 1
    assert last.number == 3
    assert last.sent_at is not None
    # The run sends every e-mail due in the organisation: this one, and the one waiting.
    assert sorted(m.to[0] for m in mailoutbox) == sorted([invitation.email, made["waiting"].email])
    [resent] = [m for m in mailoutbox if m.to == [invitation.email]]
    assert resent.subject.startswith("Reminder: ")


@pytest.mark.parametrize("state", ["completed", "expired", "waiting"])
def test_resend_is_refused_for_an_answered_closed_or_waiting_survey(client, cast, state):
    made = states(cast, timezone.localdate())
    invitation = made[state]
    client.force_login(cast.owner)
    with scopes_disabled():
        before = invitation.sends.count()
    response = client.post(
        schedule_url(cast, "surveys:invitation_resend", pk=invitation.pk), follow=True
    )
    assert "so it was not sent again" in response.content.decode()
    with scopes_disabled():
        assert invitation.sends.count() == before


def test_resend_stops_at_three_beyond_the_rules_reminders(client, cast):
    invitation = states(cast, timezone.localdate())["overdue"]
    client.force_login(cast.owner)
    url = schedule_url(cast, "surveys:invitation_resend", pk=invitation.pk)
    for _ in range(3):
        client.post(url)
        with scopes_disabled():
            invitation.sends.filter(sent_at__isnull=True).update(sent_at=timezone.now())
    response = client.post(url, follow=True)
    assert "sent as many times as allowed (6 e-mails)" in response.content.decode()
    with scopes_disabled():
        assert sorted(invitation.sends.values_list("number", flat=True)) == [0, 1, 2, 3, 4, 5]


# --- Demo data ---------------------------------------------------------------------------


def test_the_demo_schedule_has_invitations_in_every_state_and_seeds_once(cast):
    from demo import surveys_schedule

    today = timezone.localdate()
    for days_ago in (1, 3, 9, 11, 20, 40, 60):
        pair(
            cast,
            MenteeFactory(programme=cast.programme, trust=cast.trust),
            started_on=today - datetime.timedelta(days=days_ago),
        )
    with scope(organisation=cast.org):
        assert surveys_schedule.seed(cast.programme) == 7
        assert surveys_schedule.seed(cast.programme) == 0
        assert cast.programme.schedule_rules.count() == 8
        invitations = cast.programme.survey_invitations.annotate(
            sent_count=Count("sends", filter=Q(sends__sent_at__isnull=False)),
            unsent=Count("sends", filter=Q(sends__sent_at__isnull=True)),
            last_number=Max("sends__number"),
        )
        found = {views_schedule._status(i, today)[0] for i in invitations}
        # Nothing waits to go now: what was due went on its day; later reminders wait.
        assert not SurveySend.objects.filter(
            sent_at__isnull=True, due_at__lte=timezone.now()
        ).exists()
        assert SurveySend.objects.filter(sent_at__isnull=True).exists()
    assert {"Sent", "Opened", "Reminded", "Overdue", "Expired"} <= found
