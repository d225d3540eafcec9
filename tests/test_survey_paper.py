"""Paper copies: finding the survey, typing in the answers, and completing it exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from programmes.models import AuditEvent
from surveys import paper
from surveys.models import InstrumentVersion, SurveyInvitation, SurveyResponse

from .factories import MenteeFactory
from .url_cases.surveys_responses import invitation_for

pytestmark = pytest.mark.django_db

# Every required question of the default starter survey, as typed from the paper.
ANSWERS = {
    "role_started_on_day": "14",
    "role_started_on_month": "1",
    "role_started_on_year": "2025",
    "years_registered": "6",
    "previous_mentoring": "no",
    "confidence_role": "2",
    "job_satisfaction": "4",
    "wellbeing": "3",
    "belonging": "4",
    "intention_stay": "4",
    "confidence_mdt": "2",
    "confidence_communication": "3",
    "confidence_workload": "2",
    "confidence_development": "3",
    "mentoring_themes": ["workload", "supervision"],
    "goals_for_mentoring": "Settle into the MDT.",
    "share_with_mentor": "True",
}


def entry_url(cast, invitation):
    return reverse("surveys:paper_entry", args=[cast.org.slug, invitation.pk])


def list_url(cast):
    return reverse("surveys:paper_list", args=[cast.org.slug])


def response_of(invitation):
    with scopes_disabled():
        return SurveyResponse.objects.filter(invitation=invitation).first()


def test_list_shows_open_surveys_and_a_lead_nurse_sees_only_their_trusts(client, cast):
    home = invitation_for(cast.mentee_record)
    coastal = invitation_for(cast.mentee_other_trust)
    done = invitation_for(cast.mentee_record, wave="midpoint")
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=done.pk).update(completed_at=timezone.now())

    client.force_login(cast.owner)
    shown = set(client.get(list_url(cast)).context["page"].object_list)
    assert shown == {home, coastal}

    client.force_login(cast.colleague)
    page = client.get(list_url(cast))
    assert set(page.context["page"].object_list) == {home}
    assert "Coastal Mentee" not in page.content.decode()

    client.force_login(cast.lead_without_trusts)
    page = client.get(list_url(cast))
    assert list(page.context["page"].object_list) == []
    assert "You are not assigned to any trust" in page.content.decode()


def test_list_is_searchable_by_name_and_by_wave(client, cast):
    invitation_for(cast.mentee_record)
    coastal = invitation_for(cast.mentee_other_trust)
    midpoint = invitation_for(cast.mentee_other_trust, wave="midpoint")
    client.force_login(cast.owner)
    found = client.get(list_url(cast), {"q": "coastal  MENTEE"}).context["page"].object_list
    assert set(found) == {coastal, midpoint}
    found = client.get(list_url(cast), {"q": "Coastal", "wave": "midpoint"}).context["page"]
    assert list(found.object_list) == [midpoint]


def test_list_runs_the_same_number_of_queries_for_many_surveys(client, cast):
    client.force_login(cast.owner)
    invitation_for(cast.mentee_record)
    with CaptureQueriesContext(connection) as few:
        client.get(list_url(cast))
    for _ in range(12):
        invitation_for(MenteeFactory(programme=cast.programme, trust=cast.trust))
    with CaptureQueriesContext(connection) as many:
        page = client.get(list_url(cast))
    assert len(page.context["page"].object_list) == 13
    assert len(many) == len(few)


def test_paper_copy_is_saved_as_paper_by_the_person_who_typed_it(client, cast):
    invitation = invitation_for(cast.mentee_record)
    client.force_login(cast.colleague)
    page = client.get(entry_url(cast, invitation))
    assert "How confident do you feel in your current role?" in page.content.decode()

    response = client.post(entry_url(cast, invitation), ANSWERS)
    assert response.status_code == 302
    assert response["Location"] == list_url(cast)
    saved = response_of(invitation)
    assert saved.channel == SurveyInvitation.Channel.PAPER
    assert saved.entered_by == cast.colleague
    assert saved.submitted_at is not None
    assert saved.shared_with_mentor is True
    assert saved.pseudonym == invitation.pseudonym
    assert saved.wave == "starter"
    assert saved.answers["role_started_on"] == "2025-01-14"
    assert saved.answers["confidence_role"] == 2
    assert saved.answers["mentoring_themes"] == ["workload", "supervision"]
    with scopes_disabled():
        invitation.refresh_from_db()
        assert invitation.completed_at is not None
        assert InstrumentVersion.objects.get(pk=invitation.version_id).frozen_at is not None
        event = AuditEvent.objects.get(object_type="surveyresponse", action="create")
    assert "confidence_role" in event.fields and "shared_with_mentor" in event.fields
    assert "Settle" not in event.object_label and "Home Mentee" not in event.object_label


def test_paper_copy_not_ticked_to_share_stays_confidential(client, cast):
    invitation = invitation_for(cast.mentee_record)
    client.force_login(cast.owner)
    client.post(entry_url(cast, invitation), ANSWERS | {"share_with_mentor": "False"})
    assert response_of(invitation).shared_with_mentor is False


def test_missing_answers_are_listed_and_what_was_typed_is_kept(client, cast):
    invitation = invitation_for(cast.mentee_record)
    client.force_login(cast.owner)
    typed = {k: v for k, v in ANSWERS.items() if k not in ("wellbeing", "share_with_mentor")}
    page = client.post(entry_url(cast, invitation), typed)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Select an answer for “How would you rate your wellbeing at work" in text
    assert "Select yes if the paper copy is ticked to be shared with the mentor" in text
    assert "Settle into the MDT." in text
    assert response_of(invitation) is None


def test_paper_copy_of_a_completed_survey_is_refused_with_a_clear_message(client, cast):
    invitation = invitation_for(cast.mentee_record)
    client.force_login(cast.owner)
    client.post(entry_url(cast, invitation), ANSWERS)
    first = response_of(invitation)

    page = client.get(entry_url(cast, invitation))
    assert "This survey has already been completed" in page.content.decode()
    refused = client.post(
        entry_url(cast, invitation), ANSWERS | {"confidence_role": "5"}, follow=True
    )
    assert "already been completed, so the paper copy was not saved" in refused.content.decode()
    with scopes_disabled():
        assert SurveyResponse.objects.filter(programme=cast.programme).count() == 1
    assert response_of(invitation).answers == first.answers


def test_survey_completed_online_while_the_paper_copy_was_typed_is_refused(client, cast):
    invitation = invitation_for(cast.mentee_record)
    client.force_login(cast.owner)
    client.get(entry_url(cast, invitation))
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=invitation.pk).update(completed_at=timezone.now())
    page = client.post(entry_url(cast, invitation), ANSWERS, follow=True)
    assert "already been completed" in page.content.decode()
    assert response_of(invitation) is None


def test_survey_started_online_and_left_becomes_the_paper_copy(client, cast):
    invitation = invitation_for(cast.mentee_record)
    with scopes_disabled():
        started = SurveyResponse.objects.create(
            programme=cast.programme,
            invitation=invitation,
            version=invitation.version,
            wave=invitation.wave,
            pseudonym=invitation.pseudonym,
            answers={"confidence_role": 5},
        )
    client.force_login(cast.owner)
    client.post(entry_url(cast, invitation), ANSWERS)
    saved = response_of(invitation)
    assert saved.pk == started.pk
    assert (saved.channel, saved.answers["confidence_role"]) == ("paper", 2)


def test_lead_nurse_cannot_enter_a_paper_copy_for_another_trusts_mentee(client, cast):
    invitation = invitation_for(cast.mentee_other_trust)
    client.force_login(cast.colleague)
    assert client.get(entry_url(cast, invitation)).status_code == 404
    assert client.post(entry_url(cast, invitation), ANSWERS).status_code == 404
    assert response_of(invitation) is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_paper_copies_of_one_survey_save_exactly_one(cast):
    invitation = invitation_for(cast.mentee_record)
    barrier = threading.Barrier(5)
    # SQLite lets one writer in at a time; there the threads take turns.
    turns = threading.Lock() if connection.vendor == "sqlite" else None
    outcomes: list[str] = []

    def enter(number: int) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            if turns:
                turns.acquire()
            try:
                with scope(organisation=cast.org):
                    paper.enter_paper_copy(
                        invitation,
                        {"confidence_role": number},
                        shared_with_mentor=False,
                        actor=cast.owner,
                    )
                outcomes.append("saved")
            except paper.AlreadyCompleted:
                outcomes.append("refused")
            finally:
                if turns:
                    turns.release()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=enter, args=(n,)) for n in range(1, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 4 + ["saved"]
    with scopes_disabled():
        assert SurveyResponse.objects.filter(invitation=invitation).count() == 1
