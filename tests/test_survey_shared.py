"""A mentor reads a mentee's survey response only when the mentee shared it with them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.models import Relationship
from mentoring.pseudonyms import mentee_key
from programmes.access import Access
from programmes.models import AuditEvent, Membership, Role
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.shared import shared_for_relationship

from .factories import MembershipFactory, MenteeFactory, MentorFactory, UserFactory
from .factories_matching import RelationshipFactory
from .url_cases.surveys_responses import open_relationship, shared_response_for, starter_version

pytestmark = pytest.mark.django_db

ANSWERS = {
    "confidence_role": 2,
    "previous_mentoring": "no",
    "mentoring_themes": ["workload", "supervision"],
    "role_started_on": "2025-01-14",
    "goals_for_mentoring": "Feel settled in the MDT.",
}


@pytest.fixture
def pair(cast):
    return open_relationship(cast.mentee_record, cast.mentor_record)


def list_url(cast, relationship):
    return reverse("surveys:shared_responses", args=[cast.org.slug, relationship.pk])


def detail_url(cast, relationship, response):
    return reverse("surveys:shared_response", args=[cast.org.slug, relationship.pk, response.pk])


def second_mentor(cast):
    user = UserFactory(email="second.mentor@home.test", full_name="Second Mentor")
    MembershipFactory(organisation=cast.org, user=user, role=Role.MENTOR)
    return user, MentorFactory(programme=cast.programme, user=user, trust=cast.trust)


def test_mentor_reads_a_shared_response_with_question_text_and_answer_words(client, cast, pair):
    response = shared_response_for(pair, answers=ANSWERS)
    client.force_login(cast.mentor)
    listing = client.get(list_url(cast, pair))
    assert listing.status_code == 200
    assert listing.context["responses"] == [response]

    page = client.get(detail_url(cast, pair, response))
    assert page.status_code == 200
    text = page.content.decode()
    assert "How confident do you feel in your current role?" in text
    assert "Slightly confident" in text
    assert "Prioritising workload and managing time; The value of clinical supervision" in text
    assert "14 January 2025" in text
    assert "Feel settled in the MDT." in text
    assert "Not answered" in text  # questions left blank say so
    with scopes_disabled():
        event = AuditEvent.objects.get(object_type="surveyresponse", action="view")
    assert "confidence_role" in event.fields
    assert "settled" not in event.object_label


def test_confidential_response_is_not_listed_and_its_page_is_404(client, cast, pair):
    response = shared_response_for(pair, shared=False)
    client.force_login(cast.mentor)
    listing = client.get(list_url(cast, pair))
    assert listing.context["responses"] == []
    assert "has not shared any survey answers" in listing.content.decode()
    assert client.get(detail_url(cast, pair, response)).status_code == 404


@pytest.mark.parametrize("person", ["owner", "colleague", "mentee", "evaluator"])
def test_nobody_but_the_mentor_reads_a_shared_response_here(client, cast, pair, person):
    response = shared_response_for(pair)
    client.force_login(getattr(cast, person))
    assert client.get(list_url(cast, pair)).status_code == 404
    assert client.get(detail_url(cast, pair, response)).status_code == 404


def test_another_mentor_cannot_read_a_shared_response(client, cast, pair):
    response = shared_response_for(pair)
    user, mentor = second_mentor(cast)
    own = RelationshipFactory(mentee=MenteeFactory(programme=cast.programme), mentor=mentor)
    client.force_login(user)
    assert client.get(list_url(cast, pair)).status_code == 404
    assert client.get(detail_url(cast, pair, response)).status_code == 404
    # Nor through their own relationship's address.
    assert client.get(detail_url(cast, own, response)).status_code == 404


def test_response_shared_with_a_previous_mentor_stays_with_them(client, cast, pair):
    response = shared_response_for(pair)
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=Relationship.Stage.REMATCHED)
    user, mentor = second_mentor(cast)
    new = RelationshipFactory(mentee=cast.mentee_record, mentor=mentor)
    client.force_login(user)
    assert client.get(list_url(cast, new)).context["responses"] == []
    assert client.get(detail_url(cast, new, response)).status_code == 404
    # The previous mentor, asked to leave, no longer reads it either.
    client.force_login(cast.mentor)
    assert client.get(list_url(cast, pair)).status_code == 404


def test_shared_import_without_invitation_is_read_by_the_current_mentor(client, cast, pair):
    with scopes_disabled():
        imported = SurveyResponse.objects.create(
            programme=cast.programme,
            version=starter_version(cast.programme),
            wave="starter",
            pseudonym=mentee_key(cast.mentee_record),
            answers={"confidence_role": 4},
            shared_with_mentor=True,
            channel=SurveyInvitation.Channel.IMPORT,
            submitted_at=timezone.now(),
        )
    client.force_login(cast.mentor)
    assert client.get(list_url(cast, pair)).context["responses"] == [imported]
    assert client.get(detail_url(cast, pair, imported)).status_code == 200


def test_response_still_being_answered_is_not_shown(client, cast, pair):
    response = shared_response_for(pair)
    with scopes_disabled():
        SurveyResponse.objects.filter(pk=response.pk).update(submitted_at=None)
    client.force_login(cast.mentor)
    assert client.get(list_url(cast, pair)).context["responses"] == []
    assert client.get(detail_url(cast, pair, response)).status_code == 404


def test_declined_relationship_shows_nothing(client, cast, pair):
    response = shared_response_for(pair)
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=Relationship.Stage.DECLINED)
    client.force_login(cast.mentor)
    assert client.get(list_url(cast, pair)).status_code == 404
    assert client.get(detail_url(cast, pair, response)).status_code == 404


def test_shared_list_runs_the_same_number_of_queries_for_many_responses(client, cast, pair):
    shared_response_for(pair)
    client.force_login(cast.mentor)
    with CaptureQueriesContext(connection) as few:
        client.get(list_url(cast, pair))
    for number in range(6):
        shared_response_for(pair, wave=f"follow_up_{number}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(list_url(cast, pair))
    assert len(page.context["responses"]) == 7
    assert len(many) == len(few)


def panel_for(cast, user, relationship):
    request = RequestFactory().get("/")
    request.user = user
    request.organisation = cast.org
    with scope(organisation=cast.org):
        memberships = Membership.objects.filter(organisation=cast.org, user=user)
        request.access = Access.from_memberships(cast.org, memberships)
        context = shared_for_relationship(request, relationship)
        html = render_to_string(
            "surveys/responses/_relationship_shared.html", context | {"organisation": cast.org}
        )
    return context, html


def test_relationship_panel_lists_shared_responses_for_the_mentor_only(cast, pair):
    response = shared_response_for(pair)
    shared_response_for(pair, wave="midpoint", shared=False)
    context, html = panel_for(cast, cast.mentor, pair)
    assert context["shared_surveys"]["responses"] == [response]
    assert detail_url(cast, pair, response) in html
    assert "Surveys shared with you" in html
    for person in (cast.owner, cast.colleague, cast.mentee):
        context, html = panel_for(cast, person, pair)
        assert context == {"shared_surveys": None}
        assert html.strip() == ""
