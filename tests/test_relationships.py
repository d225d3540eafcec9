"""Mentoring relationships: who sees which, the summary page, and ending a match early.

The cast's mentor (``cast.mentor_record``) mentors the cast's mentee
(``cast.mentee_record``, in the colleague lead nurse's trust). Another mentor
mentors the mentee of the other home trust, and the cast's mentor once mentored a
mentee of that trust too, until they were rematched.
"""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from matching.models import Exclusion
from mentoring.models import Mentee, Relationship
from programmes.models import AuditEvent, Role

from .conftest import CANARY, enable_totp
from .factories import MembershipFactory, MenteeFactory, MentorFactory, UserFactory
from .factories_matching import RelationshipFactory
from .url_cases.mentoring_intake import foreign_mentor

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


@pytest.fixture
def pairs(cast):
    """Three home relationships and one in the other organisation."""
    other_mentor = MentorFactory(
        programme=cast.programme,
        user=UserFactory(email="second.mentor@home.test", full_name="Second Mentor"),
        trust=cast.other_trust_same_org,
    )
    former_mentee = MenteeFactory(
        programme=cast.programme,
        trust=cast.other_trust_same_org,
        full_name="Former Mentee",
        status=Mentee.Status.AWAITING_MATCH,
    )
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=Mentee.Status.MATCHED)
    return {
        "ours": RelationshipFactory(
            mentee=cast.mentee_record,
            mentor=cast.mentor_record,
            started_on=TODAY() - datetime.timedelta(days=30),
            planned_end_on=TODAY() + datetime.timedelta(days=335),
            match_score="130.00",
            matched_by=cast.colleague,
        ),
        "coastal": RelationshipFactory(
            mentee=cast.mentee_other_trust,
            mentor=other_mentor,
            stage=Relationship.Stage.NAVIGATING,
            started_on=TODAY() - datetime.timedelta(days=90),
        ),
        "rematched": RelationshipFactory(
            mentee=former_mentee,
            mentor=cast.mentor_record,
            stage=Relationship.Stage.REMATCHED,
            started_on=TODAY() - datetime.timedelta(days=200),
            ended_on=TODAY() - datetime.timedelta(days=100),
            closure_reason="Could not find times to meet.",
            cross_trust=True,
        ),
        "foreign": RelationshipFactory(mentee=cast.foreign_mentee, mentor=foreign_mentor(cast)),
    }


def listed(client, **params):
    response = client.get(url("relationship_list"), params)
    assert response.status_code == 200
    assert CANARY not in response.content.decode()
    return {r.pk for r in response.context["page"]}


# --- The list ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("owner", {"ours", "coastal", "rematched"}),
        ("colleague", {"ours"}),
        ("lead_without_trusts", set()),
        ("mentor", {"ours", "rematched"}),
        ("mentee", {"ours"}),
    ],
)
def test_each_role_lists_only_the_relationships_it_may_see(client, cast, pairs, person, expected):
    client.force_login(getattr(cast, person))
    assert listed(client) == {pairs[name].pk for name in expected}


def test_an_evaluator_has_no_relationship_list(client, cast, pairs):
    client.force_login(cast.evaluator)
    assert client.get(url("relationship_list")).status_code == 404


def test_the_list_filters_by_stage(client, cast, pairs):
    client.force_login(cast.owner)
    assert listed(client, stage="open") == {pairs["ours"].pk, pairs["coastal"].pk}
    assert listed(client, stage="ended") == {pairs["rematched"].pk}
    assert listed(client, stage="navigating") == {pairs["coastal"].pk}
    assert listed(client, stage="rematched") == {pairs["rematched"].pk}


def test_a_mentor_sees_your_mentees_with_each_stage(client, cast, pairs):
    client.force_login(cast.mentor)
    body = client.get(url("relationship_list")).content.decode()
    assert "<h1>Your mentees</h1>" in body
    assert "Home Mentee" in body
    assert "Former Mentee" in body
    assert "Rematched" in body
    assert "Second Mentor" not in body


def test_viewing_the_list_is_audited(client, cast, pairs):
    client.force_login(cast.colleague)
    listed(client)
    with scope(organisation=cast.org):
        assert AuditEvent.objects.filter(
            action=AuditEvent.Action.VIEW, object_type="relationship list", actor=cast.colleague
        ).exists()


def bulk_relationships(cast, count, *, offset=0):
    mentor = cast.mentor_record
    with scopes_disabled():
        mentees = Mentee.objects.bulk_create(
            Mentee(
                programme=cast.programme,
                trust=cast.trust,
                full_name=f"Bulk Mentee {offset + n}",
                email=f"bulk{offset + n}@hgh.test",
                role_title="Breast cancer CNS",
                identified_by="lead_nurse",
                status=Mentee.Status.CLOSED,
            )
            for n in range(count)
        )
        Relationship.objects.bulk_create(
            Relationship(
                programme=cast.programme,
                mentor=mentor,
                mentee=mentee,
                stage=Relationship.Stage.CLOSED,
                started_on=TODAY() - datetime.timedelta(days=400 + n),
            )
            for n, mentee in enumerate(mentees)
        )


@pytest.mark.parametrize("person", ["owner", "colleague", "mentor"])
def test_the_list_runs_as_many_queries_for_many_relationships_as_for_few(client, cast, person):
    client.force_login(getattr(cast, person))
    bulk_relationships(cast, 5)
    listed(client)
    with CaptureQueriesContext(connection) as few:
        assert len(listed(client)) == 5
    bulk_relationships(cast, 120, offset=5)
    with CaptureQueriesContext(connection) as many:
        assert len(listed(client)) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


# --- One relationship ---------------------------------------------------------------


def test_the_summary_shows_the_pair_and_how_they_were_matched(client, cast, pairs):
    client.force_login(cast.colleague)
    response = client.get(url("relationship_detail", pairs["ours"].pk))
    body = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Mentor and Home Mentee",
        "Setting up",
        "Assigned by a lead nurse or admin",
        "Lead",  # matched by the colleague
        "130",
        (TODAY() - datetime.timedelta(days=30)).strftime("%-d %B %Y"),
        (TODAY() + datetime.timedelta(days=335)).strftime("%-d %B %Y"),
        "mentor@home.test",
        "mentee@home.test",
    ]:
        assert text in body
    assert reverse("mentoring:relationship_end", args=["home", pairs["ours"].pk]) in body
    with scope(organisation=cast.org):
        assert AuditEvent.objects.filter(
            action=AuditEvent.Action.VIEW,
            object_type="relationship",
            object_id=str(pairs["ours"].pk),
        ).exists()


def test_an_ended_relationship_offers_no_ending_and_says_across_trusts(client, cast, pairs):
    client.force_login(cast.mentor)
    body = client.get(url("relationship_detail", pairs["rematched"].pk)).content.decode()
    assert "Rematched" in body
    assert "Yes: the mentor works for another trust" in body
    assert "End this match early" not in body


def test_the_reason_a_match_ended_is_for_the_programme_team_and_who_ended_it(client, cast, pairs):
    with scopes_disabled():
        Relationship.objects.filter(pk=pairs["rematched"].pk).update(ended_by=cast.owner)
    client.force_login(cast.mentor)
    body = client.get(url("relationship_detail", pairs["rematched"].pk)).content.decode()
    assert "Could not find times to meet." not in body
    client.force_login(cast.owner)
    body = client.get(url("relationship_detail", pairs["rematched"].pk)).content.decode()
    assert "Could not find times to meet." in body


def coastal_lead(cast):
    lead = UserFactory(email="lead.coastal@home.test", full_name="Cora Coastal")
    MembershipFactory(
        organisation=cast.org, user=lead, role=Role.LEAD_NURSE, trusts=[cast.other_trust_same_org]
    )
    enable_totp(lead)
    return lead


def another_mentor(cast):
    user = UserFactory(email="third.mentor@home.test", full_name="Third Mentor")
    MembershipFactory(organisation=cast.org, user=user, role=Role.MENTOR)
    enable_totp(user)
    return user


@pytest.mark.parametrize("page", ["relationship_detail", "relationship_end"])
@pytest.mark.parametrize(
    "who", ["lead_without_trusts", "evaluator", "coastal_lead", "another_mentor", "outsider"]
)
def test_people_outside_the_relationship_get_the_same_404_as_a_missing_one(
    client, cast, pairs, page, who
):
    person = {"coastal_lead": coastal_lead, "another_mentor": another_mentor}.get(who)
    client.force_login(person(cast) if person else getattr(cast, who))
    forbidden = client.get(url(page, pairs["ours"].pk))
    missing = client.get(url(page, 999_999))
    assert forbidden.status_code == missing.status_code == 404
    assert "Home Mentee" not in forbidden.content.decode()


@pytest.mark.parametrize("page", ["relationship_detail", "relationship_end"])
def test_another_organisations_relationship_is_404(client, cast, pairs, page):
    client.force_login(cast.owner)
    response = client.get(url(page, pairs["foreign"].pk))
    assert response.status_code == 404
    assert CANARY not in response.content.decode()


# --- Ending early -------------------------------------------------------------------


@pytest.mark.parametrize("person", ["owner", "colleague", "mentor", "mentee"])
def test_each_person_allowed_can_end_a_match_early(
    client, cast, pairs, person, django_capture_on_commit_callbacks
):
    actor = getattr(cast, person)
    client.force_login(actor)
    form = client.get(url("relationship_end", pairs["ours"].pk))
    assert form.status_code == 200
    assert "Why is this match ending?" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("relationship_end", pairs["ours"].pk), {"reason": "We could not agree times."}
        )
    assert response["Location"] == url("relationship_detail", pairs["ours"].pk)
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(pk=pairs["ours"].pk)
        mentee = Mentee.objects.get(pk=cast.mentee_record.pk)
        exclusion = Exclusion.objects.get(mentee=mentee, mentor=cast.mentor_record)
    assert relationship.stage == Relationship.Stage.REMATCHED
    assert relationship.ended_by == actor
    assert relationship.ended_on == TODAY()
    assert relationship.closure_reason == "We could not agree times."
    assert mentee.status == Mentee.Status.AWAITING_MATCH
    assert exclusion.reason == Exclusion.Reason.ASKED_TO_LEAVE
    assert sorted(m.to[0] for m in mail.outbox) == ["mentee@home.test", "mentor@home.test"]
    assert all("We could not agree times." not in m.body for m in mail.outbox)

    page = client.get(response["Location"]).content.decode()
    assert (
        "The match between Mentor and Home Mentee has ended. Home Mentee is back in the queue "
        "for a new mentor, and Mentor will not be matched with them again."
    ) in page
    assert "End this match early" not in page


def test_ending_early_needs_a_reason_and_changes_nothing_without_one(client, cast, pairs):
    client.force_login(cast.mentor)
    response = client.post(url("relationship_end", pairs["ours"].pk), {"reason": "   "})
    assert response.status_code == 200
    assert "Enter the reason for ending this match" in response.content.decode()
    with scope(organisation=cast.org):
        assert Relationship.objects.get(pk=pairs["ours"].pk).is_open
        assert not Exclusion.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("who", ["lead_without_trusts", "evaluator", "coastal_lead"])
def test_people_who_may_not_end_a_match_cannot_by_posting(client, cast, pairs, who):
    client.force_login(coastal_lead(cast) if who == "coastal_lead" else getattr(cast, who))
    response = client.post(url("relationship_end", pairs["ours"].pk), {"reason": "Not mine"})
    assert response.status_code == 404
    with scope(organisation=cast.org):
        assert Relationship.objects.get(pk=pairs["ours"].pk).is_open


def test_an_ended_match_cannot_be_ended_again(client, cast, pairs):
    client.force_login(cast.mentor)
    response = client.post(
        url("relationship_end", pairs["rematched"].pk), {"reason": "Again"}, follow=True
    )
    assert "This match has already ended." in response.content.decode()
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(pk=pairs["rematched"].pk)
    assert relationship.closure_reason == "Could not find times to meet."


def test_after_a_rematch_the_previous_mentor_is_not_suggested_and_another_can_be_assigned(
    client, cast, pairs, django_capture_on_commit_callbacks
):
    client.force_login(cast.mentee)
    client.post(url("relationship_end", pairs["ours"].pk), {"reason": "Not the right fit."})
    newcomer = MentorFactory(
        programme=cast.programme,
        user=UserFactory(email="new.mentor@home.test", full_name="Nell Newcomer"),
        trust=cast.trust,
    )

    client.force_login(cast.colleague)
    suggestions = reverse("matching:suggestions", args=["home", cast.mentee_record.pk])
    response = client.get(suggestions)
    ranked = [r.mentor for r in response.context["ranked"]]
    assert ranked[0] == newcomer
    assert cast.mentor_record not in ranked
    unavailable = {r.mentor: r.unavailable for r in response.context["unavailable"]}
    assert unavailable[cast.mentor_record] == "a previous pair that ended early"

    assign = reverse("matching:assign", args=["home", cast.mentee_record.pk])
    refused = client.post(assign, {"mentor": cast.mentor_record.pk}, follow=True)
    assert "a previous pair that ended early" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(assign, {"mentor": newcomer.pk})
    with scope(organisation=cast.org):
        stages = dict(
            Relationship.objects.filter(mentee=cast.mentee_record).values_list("mentor", "stage")
        )
    assert stages == {
        cast.mentor_record.pk: Relationship.Stage.REMATCHED,
        newcomer.pk: Relationship.Stage.SETTING_UP,
    }


# --- The mentee's page, the queue and the mentor's profile --------------------------


def test_the_mentee_page_shows_the_current_mentor_past_pairs_and_exclusions(client, cast, pairs):
    with scopes_disabled():
        Relationship.objects.filter(pk=pairs["rematched"].pk).update(
            mentee=cast.mentee_record, ended_by=cast.mentee
        )
        Exclusion.objects.create(
            programme=cast.programme,
            mentee=cast.mentee_record,
            mentor=cast.mentor_record,
            reason=Exclusion.Reason.LINE_MANAGEMENT,
        )
    client.force_login(cast.colleague)
    body = client.get(url("mentee_detail", cast.mentee_record.pk)).content.decode()
    assert url("relationship_detail", pairs["ours"].pk) in body
    assert url("relationship_detail", pairs["rematched"].pk) in body
    assert "Could not find times to meet." in body
    assert "Rematched" in body
    assert "Mentor: mentor is in the mentee&#x27;s line management" in body
    assert reverse("matching:exclusions", args=["home", cast.mentee_record.pk]) in body
    # Matched already: no "Find a mentor".
    assert reverse("matching:suggestions", args=["home", cast.mentee_record.pk]) not in body


def test_a_mentor_reading_the_mentee_page_sees_only_their_own_relationship(client, cast, pairs):
    second = pairs["coastal"].mentor
    with scopes_disabled():
        Relationship.objects.filter(pk=pairs["rematched"].pk).update(
            mentee=cast.mentee_record, mentor=second
        )
    client.force_login(cast.mentor)
    body = client.get(url("mentee_detail", cast.mentee_record.pk)).content.decode()
    assert url("relationship_detail", pairs["ours"].pk) in body
    assert url("relationship_detail", pairs["rematched"].pk) not in body
    assert "Second Mentor" not in body
    assert "Manage exclusions" not in body


def test_a_waiting_mentee_can_be_found_a_mentor_from_the_queue_and_the_record(client, cast):
    client.force_login(cast.colleague)
    suggestions = reverse("matching:suggestions", args=["home", cast.mentee_record.pk])
    queue = client.get(url("mentee_queue")).content.decode()
    assert (
        f'href="{suggestions}">Find a mentor<span class="nhsuk-u-visually-hidden"> for Home Mentee'
        in queue
    )
    record = client.get(url("mentee_detail", cast.mentee_record.pk)).content.decode()
    assert suggestions in record


def test_the_mentor_profile_links_to_your_mentees(client, cast):
    client.force_login(cast.mentor)
    body = client.get(url("mentor_profile")).content.decode()
    assert f'href="{url("relationship_list")}">Your mentees</a>' in body
