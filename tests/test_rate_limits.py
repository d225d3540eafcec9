"""Limits on what anyone can try without being signed in: sign-in, password reset and the
fresh links of survey and agreement pages. Each limit refuses the next request once it is
reached, and holds back only the address or account that reached it.

Already covered elsewhere: failed sign-ins per account (tests/test_auth.py), the survey
poster per address and per network address (tests/test_survey_poster.py), fresh survey
links per address, per network address and per used link (tests/test_survey_respond.py),
and fresh agreement links per agreement (tests/test_agreements.py)."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from mentoring import services_agreements as agreements
from mentoring.models import Agreement, Relationship
from programmes.models import Role
from surveys import respond

from .conftest import PASSWORD
from .factories import MembershipFactory, MenteeFactory, UserFactory
from .factories_matching import RelationshipFactory
from .test_agreements import draft, new_link, send, token_from
from .test_survey_respond import make_invitation

pytestmark = pytest.mark.django_db

TOO_MANY_FAILURES = "Too many failed login attempts"
TOO_MANY_ATTEMPTS = "Too many attempts"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(cast):
    """A mentor without two-factor, so a right password signs straight in."""
    user = UserFactory(email="plain.member@home.test")
    MembershipFactory(organisation=cast.org, user=user, role=Role.MENTOR)
    return user


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def visitor(ip: str, **headers) -> Client:
    return Client(REMOTE_ADDR=ip, **headers)


def ask_for_reset(client, email, **request):
    return client.post(reverse("account_reset_password"), {"email": email}, **request)


def assert_signed_in(client, response):
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


# --- Sign-in ---------------------------------------------------------------------------


def test_failed_sign_ins_from_one_address_are_limited_whichever_account(member):
    guesser = visitor("203.0.113.5")
    for number in range(20):
        response = sign_in(guesser, f"guess{number}@home.test", "wrong-password")
        assert TOO_MANY_FAILURES not in response.content.decode()
    refused = sign_in(guesser, member.email)
    assert refused.status_code == 200
    assert TOO_MANY_FAILURES in refused.content.decode()
    assert "_auth_user_id" not in guesser.session
    # Someone elsewhere signs in to the same account as usual.
    elsewhere = visitor("203.0.113.6")
    assert_signed_in(elsewhere, sign_in(elsewhere, member.email))


def test_an_account_held_back_after_failures_does_not_hold_back_others(cast, member):
    office = visitor("198.51.100.20")
    for _ in range(5):
        sign_in(office, cast.mentor.email, "wrong-password")
    assert TOO_MANY_FAILURES in sign_in(office, cast.mentor.email).content.decode()
    colleague = visitor("198.51.100.20")
    assert_signed_in(colleague, sign_in(colleague, member.email))


def test_a_flood_of_sign_in_attempts_gets_the_too_many_attempts_page(member):
    flood = visitor("203.0.113.9")
    for number in range(30):
        assert sign_in(flood, f"flood{number}@home.test", "wrong").status_code == 200
    refused = sign_in(flood, member.email)
    assert refused.status_code == 429
    assert TOO_MANY_ATTEMPTS in refused.content.decode()
    assert "nhsuk-header" in refused.content.decode()
    calm = visitor("203.0.113.10")
    assert_signed_in(calm, sign_in(calm, member.email))


# --- Password reset ----------------------------------------------------------------------


def test_password_reset_is_limited_per_email_address(client, member):
    for number in range(5):
        assert (
            ask_for_reset(client, member.email, REMOTE_ADDR=f"192.0.2.{number}").status_code == 302
        )
    refused = ask_for_reset(client, member.email, REMOTE_ADDR="192.0.2.50")
    assert refused.status_code == 429
    assert TOO_MANY_ATTEMPTS in refused.content.decode()
    assert len([m for m in mail.outbox if m.to == [member.email]]) == 5
    # Another address is answered as usual, from the same place.
    answered = ask_for_reset(client, "someone.else@home.test", REMOTE_ADDR="192.0.2.50")
    assert answered.status_code == 302


def test_password_reset_is_limited_per_network_address(client, db):
    for number in range(20):
        response = ask_for_reset(client, f"person{number}@home.test", REMOTE_ADDR="192.0.2.77")
        assert response.status_code == 302
    refused = ask_for_reset(client, "one.more@home.test", REMOTE_ADDR="192.0.2.77")
    assert refused.status_code == 429
    assert TOO_MANY_ATTEMPTS in refused.content.decode()
    elsewhere = ask_for_reset(client, "one.more@home.test", REMOTE_ADDR="192.0.2.78")
    assert elsewhere.status_code == 302


def test_a_made_up_forwarded_address_does_not_escape_the_limit(client, db):
    for number in range(20):
        response = ask_for_reset(
            client,
            f"person{number}@home.test",
            REMOTE_ADDR="192.0.2.90",
            HTTP_X_FORWARDED_FOR=f"10.9.8.{number}",
        )
        assert response.status_code == 302
    refused = ask_for_reset(
        client, "one.more@home.test", REMOTE_ADDR="192.0.2.90", HTTP_X_FORWARDED_FOR="10.9.8.200"
    )
    assert refused.status_code == 429


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_our_proxy_visitors_are_limited_apart(client, db):
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for number in range(20):
        response = ask_for_reset(
            client, f"person{number}@home.test", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.30"
        )
        assert response.status_code == 302
    first = ask_for_reset(
        client, "one.more@home.test", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.30"
    )
    assert first.status_code == 429
    second = ask_for_reset(
        client, "one.more@home.test", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.31"
    )
    assert second.status_code == 302


# --- Fresh links from pages that need no sign-in ------------------------------------------


def test_a_used_survey_link_held_back_does_not_hold_back_another_persons(client, cast):
    _, used = make_invitation(cast.programme, mentee=cast.mentee_record, completed=True)
    _, other = make_invitation(cast.programme, mentee=cast.mentee_other_trust, completed=True)
    for _ in range(respond.ADDRESS_LIMIT):
        client.post(reverse("survey_public:respond_new_link", args=[used]))
    held_back = client.post(reverse("survey_public:respond_new_link", args=[used]))
    assert held_back.status_code == 429
    response = client.post(reverse("survey_public:respond_new_link", args=[other]))
    assert response.status_code == 200


def _expired_signing_link(client, cast, relationship, capture) -> str:
    draft(client, cast, relationship)
    mail.outbox.clear()
    send(client, cast, relationship, capture)
    token = token_from(mail.outbox[-1])
    with scopes_disabled():
        Agreement.objects.filter(relationship=relationship).update(
            signing_token_expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    return token


def test_an_agreement_held_back_does_not_hold_back_another(
    client, cast, django_capture_on_commit_callbacks
):
    first = RelationshipFactory(
        mentee=cast.mentee_other_trust,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.GETTING_STARTED,
        cross_trust=True,
    )
    second_mentee = MenteeFactory(
        programme=cast.programme,
        trust=cast.other_trust_same_org,
        full_name="Harbour Mentee",
        email="harbour.mentee@home.test",
    )
    second = RelationshipFactory(
        mentee=second_mentee,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.GETTING_STARTED,
        cross_trust=True,
    )
    capture = django_capture_on_commit_callbacks
    first_token = _expired_signing_link(client, cast, first, capture)
    second_token = _expired_signing_link(client, cast, second, capture)
    client.logout()
    for _ in range(agreements.NEW_LINK_LIMIT):
        assert client.post(new_link(first_token)).status_code == 200
    assert client.post(new_link(first_token)).status_code == 429
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post(new_link(second_token))
    assert response.status_code == 200
    assert [message.to for message in mail.outbox] == [["harbour.mentee@home.test"]]
