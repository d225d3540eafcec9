"""Every public form: signing in, resetting a password, answering a survey by its link,
asking for a survey link from the poster, applying, signing an agreement by its
link, a line manager's priorities, and accepting an invitation.

Nobody is signed in (except where the page is the second step of signing in); each
page is opened as its visitor would, then its forms get hostile input.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from mentoring import services_agreements
from mentoring.models import Agreement, LineManagerLink
from programmes.models import Invitation, Role
from programmes.services.invitations import make_token
from programmes.tokens import hash_token, new_token
from surveys import respond
from surveys.models import SurveyPoster
from surveys.question_forms import version_sections

from ..conftest import PASSWORD
from ..factories import CohortFactory, ProgrammeFactory
from ..factories_matching import RelationshipFactory
from ..url_cases.surveys_responses import invitation_for
from .hostile import Guard, foreign_objects, fuzz_form, post_forms

pytestmark = pytest.mark.django_db

VISITOR = {"REMOTE_ADDR": "192.0.2.44"}


def fuzz_pages(client: Client, cast, urls: list[str]) -> tuple[int, int]:
    """Open each page and send hostile input to each of its forms; (forms, submissions)."""
    with scopes_disabled():
        guard = Guard(foreign_objects(cast.other_org))
    seen, sent = set(), 0
    for url in urls:
        page = client.get(url, **VISITOR)
        assert page.status_code == 200, f"{url}: {page.status_code}"
        for form in post_forms(page.content.decode(), f"http://testserver{url}"):
            key = (form.action, form.names())
            if key not in seen:
                seen.add(key)
                sent += fuzz_form(client, form, guard, f"{url}: {form.action}", **VISITOR)
    return len(seen), sent


def test_sign_in_and_password_reset_take_hostile_input_calmly(client, cast):
    forms, sent = fuzz_pages(
        client, cast, [reverse("account_login"), reverse("account_reset_password")]
    )
    assert forms >= 2 and sent > forms


def test_second_step_of_signing_in_takes_hostile_codes_calmly(client, cast):
    response = client.post(
        reverse("account_login"), {"login": cast.owner.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    forms, sent = fuzz_pages(client, cast, [response["Location"]])
    assert forms >= 1 and sent > forms


def test_every_page_of_a_survey_by_link_takes_hostile_answers_calmly(client, cast):
    invitation = invitation_for(cast.mentee_record)
    with scopes_disabled():
        token = respond.issue_link(invitation)
    start = client.get(reverse("survey_public:respond_token", args=[token]))
    assert start.status_code == 302
    with scopes_disabled():
        pages = len(version_sections(invitation.version))
    urls = [
        reverse("survey_public:respond_page", args=[invitation.pk, number])
        for number in range(1, pages + 1)
    ]
    urls.append(reverse("survey_public:respond_finish", args=[invitation.pk]))
    forms, sent = fuzz_pages(client, cast, urls)
    assert forms >= pages and sent > forms


def test_asking_for_a_link_by_link_or_poster_takes_hostile_addresses_calmly(client, cast):
    with scopes_disabled():
        poster, _ = SurveyPoster.objects.get_or_create(
            programme=cast.programme, defaults={"code": "fuzz-poster-code"}
        )
    forms, sent = fuzz_pages(
        client,
        cast,
        [
            reverse("survey_public:poster", args=[poster.code]),
            reverse("survey_public:respond_ask_link"),
        ],
    )
    assert forms >= 2 and sent > forms


def test_application_page_takes_hostile_applications_calmly(client, cast):
    today = timezone.localdate()
    programme = ProgrammeFactory(
        organisation=cast.org,
        name="Open Academy",
        takes_applications=True,
        applications_open=True,
        eligibility_questions="Are you employed by an NHS organisation?",
    )
    CohortFactory(
        programme=programme,
        name="Open cohort",
        applications_open_on=today - datetime.timedelta(days=5),
        applications_close_on=today + datetime.timedelta(days=5),
        starts_on=today + datetime.timedelta(days=30),
    )
    forms, sent = fuzz_pages(client, cast, [reverse("apply", args=[cast.org.slug, programme.pk])])
    assert forms >= 1 and sent > forms


def test_signing_an_agreement_by_link_takes_hostile_names_calmly(client, cast):
    relationship = RelationshipFactory(
        mentee=cast.mentee_other_trust, mentor=cast.mentor_record, cross_trust=True
    )
    now = timezone.now()
    with scopes_disabled():
        agreement = Agreement.objects.create(
            relationship=relationship,
            version=1,
            goals="Settle into the role",
            meeting_frequency="Monthly",
            meeting_duration="An hour",
            evaluation_period="12 months",
            progress_recording="The session log",
            confidentiality="Confidential between us",
            sent_at=now,
            mentor_signed_name="Mentor",
            mentor_signed_at=now,
        )
        token = services_agreements._issue_link(agreement)
        agreement.save()
    forms, sent = fuzz_pages(client, cast, [reverse("agreement_sign_link", args=[token])])
    assert forms >= 1 and sent > forms


def test_line_managers_priorities_by_link_take_hostile_input_calmly(client, cast):
    token = new_token()
    with scopes_disabled():
        mentee = cast.mentee_record
        mentee.line_manager_email = "manager@home.test"
        mentee.save()
        LineManagerLink.objects.create(
            mentee=mentee,
            token_hash=hash_token(token),
            expires_at=timezone.now() + datetime.timedelta(days=14),
        )
    forms, sent = fuzz_pages(client, cast, [reverse("line_manager_priorities", args=[token])])
    assert forms >= 1 and sent > forms


def test_accepting_an_invitation_takes_hostile_account_details_calmly(client, cast):
    with scopes_disabled():
        invitation = Invitation.objects.create(
            organisation=cast.org,
            email="new.person@home.test",
            full_name="New Person",
            role=Role.MENTOR,
        )
    forms, sent = fuzz_pages(
        client, cast, [reverse("invitation_accept", args=[make_token(invitation)])]
    )
    assert forms >= 1 and sent > forms
