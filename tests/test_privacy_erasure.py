"""Erasing a person: every trace of their identity goes from the organisation's records
and the audit trail, every report and export keeps its totals, and only the
organisation's admin can do it."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from evaluation import reports
from evaluation.workbook import Builder
from matching.models import MatchRequest
from mentoring.models import (
    Agreement,
    Goal,
    GoalUpdate,
    Mentee,
    Relationship,
    SessionAction,
    SessionLog,
    SessionRecord,
)
from mentoring.pseudonyms import mentee_key
from privacy.models import Erasure
from privacy.services import erase_person
from programmes import audit
from programmes.models import Application, AuditEvent, Invitation, Membership, Role
from surveys import respond
from surveys.models import SurveyResponse

from .factories import MembershipFactory, MenteeFactory, MentorFactory, UserFactory
from .factories_matching import RelationshipFactory
from .test_monthly_export import submitted_closure
from .test_survey_respond import (
    STARTER_PAGES,
    answer_all,
    make_invitation,
    one_waits_for_the_other,
    open_link,
    page_url,
)

pytestmark = pytest.mark.django_db

NAME = "Wilhelmina Throckbottom"
EMAIL = "wilhelmina.t@canary.test"
CANARIES = [
    NAME,
    EMAIL,
    "Bartholomew Quince",
    "bart.quince@canary.test",
    "PRIV-NEEDS-1a2b",
    "PRIV-PRIORITY-3c4d",
    "PRIV-SUMMARY-5e6f",
    "PRIV-ACTION-7a8b",
    "PRIV-PLAN-9c0d",
    "PRIV-REFLECT-e1f2",
    "PRIV-GOALS-a3b4",
    "PRIV-GOAL-TITLE-c5d6",
    "PRIV-GOAL-NOTE-f7a8",
    "PRIV-STATEMENT-e7f8",
    "PRIV-ANSWER-0a1b",
    "PRIV-MESSAGE-2c3d",
]
# Every app whose rows could hold a person's data, and allauth's e-mail addresses.
APPS = ("accounts", "account", "programmes", "mentoring", "matching", "surveys", "evaluation")


def seed_person(cast, *, name: str = NAME, email: str = EMAIL) -> SimpleNamespace:
    """A mentee with an account, a pair with sessions, records, an agreement and goals, an
    application, a request to a mentor, survey answers, an invitation and audit events;
    every free-text field full of canaries, and their name typed in someone else's text."""
    programme = cast.programme
    now = timezone.now()
    today = timezone.localdate()
    with scopes_disabled():
        user = UserFactory(email=email, full_name=name)
        MembershipFactory(organisation=cast.org, user=user, role=Role.MENTEE)
        Invitation.objects.create(
            organisation=cast.org,
            programme=programme,
            email=email,
            full_name=name,
            role=Role.MENTEE,
            accepted_at=now,
            accepted_by=user,
        )
        application = Application.objects.create(
            programme=programme,
            applicant=user,
            side=Application.Side.MENTEE,
            statement="PRIV-STATEMENT-e7f8",
            eligibility_answers={"0": True},
            status=Application.Status.ACCEPTED,
        )
        mentee = MenteeFactory(
            programme=programme,
            trust=cast.trust,
            user=user,
            full_name=name,
            email=email,
            line_manager_name="Bartholomew Quince",
            line_manager_email="bart.quince@canary.test",
            needs="PRIV-NEEDS-1a2b",
            priority_reason="PRIV-PRIORITY-3c4d",
            status="active",
            themes=["mdt"],
            source_application=application,
        )
        relationship = RelationshipFactory(
            mentor=cast.mentor_record,
            mentee=mentee,
            stage="navigating",
            started_on=today - datetime.timedelta(days=40),
        )
        Agreement.objects.create(
            relationship=relationship,
            goals="PRIV-GOALS-a3b4",
            meeting_frequency="Monthly",
            meeting_duration="One hour",
            evaluation_period="12 months",
            progress_recording="The session log",
            confidentiality="Confidential",
            mentor_signed_name="Mentor",
            mentor_signed_at=now,
            mentee_signed_name=name,
            mentee_signed_at=now,
        )
        goal = Goal.objects.create(relationship=relationship, title="PRIV-GOAL-TITLE-c5d6")
        GoalUpdate.objects.create(goal=goal, status="in_progress", note="PRIV-GOAL-NOTE-f7a8")
        for days_ago, method in ((30, "video"), (12, "face_to_face")):
            log = SessionLog.objects.create(
                programme=programme,
                mentor=cast.mentor_record,
                held_on=today - datetime.timedelta(days=days_ago),
                duration_minutes=50,
                method=method,
                summary=f"PRIV-SUMMARY-5e6f with {name}",
                themes=["mdt"],
            )
            log.relationships.add(relationship)
            SessionAction.objects.create(log=log, what="PRIV-ACTION-7a8b", who=name)
            SessionRecord.objects.create(
                relationship=relationship,
                log=log,
                held_on=log.held_on,
                duration_minutes=50,
                plan="PRIV-PLAN-9c0d",
                reflections="PRIV-REFLECT-e1f2",
            )
        # Someone else's relationship whose closure reason names the person.
        RelationshipFactory(
            mentor=cast.mentor_record,
            mentee=cast.mentee_other_trust,
            stage="closed",
            started_on=today - datetime.timedelta(days=50),
            ended_on=today - datetime.timedelta(days=2),
            closure_kind="goals_met",
            closure_reason=f"Handed over to {name} as a peer",
        )
        MatchRequest.objects.create(
            programme=programme,
            mentee=mentee,
            mentor=cast.mentor_record,
            message="PRIV-MESSAGE-2c3d",
            status=MatchRequest.Status.ACCEPTED,
        )
        submitted_closure(
            mentee,
            relationship,
            {
                "confidence_role": "4",
                "trust_built_easily": "yes",
                "what_helped": "PRIV-ANSWER-0a1b",
            },
            key=f"closure:mentee:{mentee.pk}:{relationship.pk}",
            at=now,
        )
        audit.record(
            organisation=cast.org,
            actor=cast.owner,
            action=AuditEvent.Action.VIEW,
            object_type="person",
            object_id=user.pk,
            label=name,
        )
    return SimpleNamespace(user=user, mentee=mentee, relationship=relationship)


def every_row_text(app_labels=APPS) -> str:
    """Every value of every row of every model that could hold personal data."""
    chunks = []
    with scopes_disabled():
        for label in app_labels:
            for model in apps.get_app_config(label).get_models():
                for row in model._base_manager.values_list():
                    chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks).lower()


def figures(programme) -> dict:
    """Every table of every report and every row of every sheet of this month's export,
    less the export's own build time."""
    with scope(organisation=programme.organisation):
        tables = {
            spec.key: [(t.key, t.columns, t.rows) for t in spec.build(programme).tables]
            for spec in reports.specs()
        }
        sheets = {
            sheet.name: [row for row in sheet.rows() if not str(row[0]).startswith("Built")]
            for sheet in Builder(programme, timezone.localdate().replace(day=1)).sheets()
        }
    return {"reports": tables, "export": sheets}


def test_erasing_a_mentee_removes_every_canary_from_every_record_and_the_audit_trail(cast):
    person = seed_person(cast)
    before = every_row_text()
    assert all(canary.lower() in before for canary in CANARIES)

    with scope(organisation=cast.org):
        result = erase_person(cast.org, person.user, cast.owner)

    after = every_row_text()
    left = [canary for canary in CANARIES if canary.lower() in after]
    assert not left
    assert result.changed["mentee"] == 1
    with scopes_disabled():
        mentee = Mentee.objects.get(pk=person.mentee.pk)
        # The record stays, under its pseudonym, for the figures.
        assert mentee.full_name == f"Erased mentee {mentee_key(mentee)}"
        assert mentee.status == "active"
        assert SessionLog.objects.filter(relationships=person.relationship).count() == 2
        answers = SurveyResponse.objects.get(invitation__mentee=mentee).answers
        assert answers == {"confidence_role": "4", "trust_built_easily": "yes"}
        assert not Membership.objects.filter(user=person.user).exists()
    person.user.refresh_from_db()
    assert not person.user.is_active
    assert not person.user.has_usable_password()


def test_every_report_and_the_export_give_the_same_figures_after_an_erasure(cast):
    person = seed_person(cast)
    before = figures(cast.programme)
    assert before["export"]["Sessions"] and before["export"]["Survey answers"]

    with scope(organisation=cast.org):
        erase_person(cast.org, person.user, cast.owner)

    assert figures(cast.programme) == before


def test_the_audit_trail_keeps_who_erased_whom_by_id_without_their_details(cast):
    person = seed_person(cast)
    with scope(organisation=cast.org):
        erase_person(cast.org, person.user, cast.owner)
        event = AuditEvent.objects.get(object_type="user_personal_data")
        earlier = AuditEvent.objects.get(object_type="person", object_id=str(person.user.pk))
    assert event.actor == cast.owner
    assert event.object_id == str(person.user.pk)
    assert event.action == AuditEvent.Action.DELETE
    assert NAME not in event.object_label
    assert earlier.object_label == "[erased]"


def test_erasing_twice_changes_and_records_nothing_new(cast):
    person = seed_person(cast)
    with scope(organisation=cast.org):
        erase_person(cast.org, person.user, cast.owner)
        events = AuditEvent.objects.count()
        text = every_row_text()
        again = erase_person(cast.org, person.user, cast.owner)
        assert not again.changed
        assert AuditEvent.objects.count() == events
        assert Erasure.objects.count() == 1
    assert every_row_text() == text


def test_a_membership_in_another_organisation_and_the_account_stay(cast):
    person = seed_person(cast)
    with scopes_disabled():
        elsewhere = MembershipFactory(
            organisation=cast.other_org, user=person.user, role=Role.MENTOR
        )
        MentorFactory(programme=cast.other_programme, user=person.user, bio="Still mentoring")

    with scope(organisation=cast.org):
        erase_person(cast.org, person.user, cast.owner)

    person.user.refresh_from_db()
    assert person.user.is_active
    assert person.user.full_name == NAME
    with scopes_disabled():
        assert Membership.objects.filter(pk=elsewhere.pk).exists()
        assert person.user.mentor_records.get().bio == "Still mentoring"
        # Nothing of the home organisation points at the account any more.
        assert not Membership.objects.filter(user=person.user, organisation=cast.org).exists()
        assert not Mentee.objects.filter(user=person.user).exists()
        assert not Application.objects.filter(applicant=person.user).exists()
        mentee = Mentee.objects.get(pk=person.mentee.pk)
        assert mentee.user.full_name == "Erased person"
        assert not mentee.user.is_active
        assert Relationship.objects.filter(mentee=mentee).count() == 1


def test_a_mentee_without_an_account_can_be_erased_by_their_record(cast):
    with scopes_disabled():
        cast.mentee_other_trust.needs = "PRIV-NEEDS-1a2b"
        cast.mentee_other_trust.save()
    with scope(organisation=cast.org):
        result = erase_person(cast.org, cast.mentee_other_trust, cast.owner)
    assert result.changed["mentee"] == 1
    text = every_row_text()
    assert "coastal mentee" not in text
    assert "coastal.mentee@home.test" not in text
    assert "priv-needs-1a2b" not in text
    with scopes_disabled():
        assert Erasure.objects.get().subject_type == "mentee"


def test_erasure_leaves_other_people_as_they_were(cast):
    seed_person(cast)
    other = seed_person(cast, name="Octavia Pemberton-Lusk", email="octavia.pl@canary.test")
    with scope(organisation=cast.org):
        erase_person(cast.org, get_user_model().objects.get(email=EMAIL), cast.owner)
    text = every_row_text()
    assert "octavia pemberton-lusk" in text
    assert "octavia.pl@canary.test" in text
    other.user.refresh_from_db()
    assert other.user.is_active


# --- The pages ---------------------------------------------------------------------------


def test_the_admin_erases_a_person_after_confirming(client, cast):
    person = seed_person(cast)
    client.force_login(cast.owner)
    url = reverse("privacy:erase", args=[cast.org.slug, "person", person.user.pk])

    unconfirmed = client.post(url, {})
    assert unconfirmed.status_code == 200
    assert "Confirm that you understand" in unconfirmed.content.decode()
    assert NAME.lower() in every_row_text()

    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:index", args=[cast.org.slug])
    assert NAME.lower() not in every_row_text()


def test_nobody_but_the_admin_can_erase(client, cast):
    target = seed_person(cast)
    url = reverse("privacy:erase", args=[cast.org.slug, "person", target.user.pk])
    for person in (cast.colleague, cast.evaluator, cast.mentor, cast.mentee):
        client.force_login(person)
        assert client.post(url, {"confirm": "on"}).status_code == 404
    client.force_login(cast.outsider)
    assert client.post(url, {"confirm": "on"}).status_code == 404
    client.logout()
    assert client.post(url, {"confirm": "on"}).status_code == 302
    assert NAME.lower() in every_row_text()


def test_another_organisations_admin_gets_404_and_erases_nothing(client, cast):
    target = seed_person(cast)
    client.force_login(cast.other_admin)
    for slug in (cast.other_org.slug, cast.org.slug):
        url = reverse("privacy:erase", args=[slug, "person", target.user.pk])
        assert client.post(url, {"confirm": "on"}).status_code == 404
    assert NAME.lower() in every_row_text()


def test_the_person_page_links_admins_to_the_privacy_page(client, cast):
    client.force_login(cast.owner)
    response = client.get(reverse("mentoring:person", args=[cast.org.slug, cast.mentor.pk]))
    assert reverse("privacy:person", args=[cast.org.slug, "person", cast.mentor.pk]) in (
        response.content.decode()
    )


def test_the_people_list_runs_the_same_queries_however_many_people(
    client, cast, django_assert_num_queries
):
    client.force_login(cast.owner)
    url = reverse("privacy:index", args=[cast.org.slug])
    client.get(url)  # warm the session and the access caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    with scopes_disabled():
        for _ in range(30):
            MenteeFactory(programme=cast.programme, trust=cast.trust)
            MembershipFactory(organisation=cast.org, user=UserFactory(), role=Role.MENTOR)
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    assert "Coastal Mentee" in response.content.decode()


def test_searching_the_people_list_finds_accounts_and_mentees_without_one(client, cast):
    client.force_login(cast.owner)
    response = client.get(reverse("privacy:index", args=[cast.org.slug]), {"q": "coastal"})
    page = response.content.decode()
    assert "Coastal Mentee" in page
    assert "mentor@home.test" not in page


def test_an_erased_mentee_is_sent_no_further_survey(cast):
    from privacy.services import erase_person
    from surveys.models import ScheduleRule
    from surveys.scheduling import people_for

    from .factories_matching import RelationshipFactory

    with scopes_disabled():
        relationship = RelationshipFactory(mentor=cast.mentor_record, mentee=cast.mentee_record)
        rule = ScheduleRule(programme=cast.programme, wave="midpoint", audience="mentee")
        assert [p.email for p in people_for(rule, relationship)] == [cast.mentee_record.email]
    with scope(organisation=cast.org):
        erase_person(cast.org, cast.mentee_record, actor=cast.owner)
    with scopes_disabled():
        relationship.refresh_from_db()
        relationship.mentee.refresh_from_db()
        assert list(people_for(rule, relationship)) == []


@pytest.mark.django_db(transaction=True)
def test_a_survey_page_saved_during_an_erasure_keeps_both(cast):
    """Someone else's survey names the person. A page of it is being saved as the
    person is erased: the erasure waits for the save and takes the name out of the
    answers as saved, so the page is neither lost nor the name left behind."""
    person = seed_person(cast)
    other, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    client = Client()
    open_link(client, token)
    answer_all(client, other, STARTER_PAGES[:3])
    goals = {"mentoring_themes": ["workload"], "goals_for_mentoring": f"Shadow {NAME} in clinic"}
    assert client.post(page_url(other, 4), {**goals, "action": "continue"}).status_code == 302
    erased = []

    def save_a_page():
        showing = respond.find_invitation(other.pk, showing=True)
        respond.save_answers(showing, {"confidence_role": 1}, codes=["confidence_role"])

    def erase():
        with scope(organisation=cast.org):
            erased.append(erase_person(cast.org, person.user, cast.owner))

    # The erasure starts while the page's save is not yet committed, and waits for it.
    one_waits_for_the_other(cast.org, save_a_page, erase)

    assert len(erased) == 1
    with scopes_disabled():
        answers = SurveyResponse.objects.get(invitation=other).answers
    assert answers["confidence_role"] == 1
    assert NAME.lower() not in answers["goals_for_mentoring"].lower()
    assert answers["goals_for_mentoring"].startswith("Shadow ")
