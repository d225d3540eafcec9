import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from accounts.middleware import SESSION_STARTED_KEY, SESSION_TOUCHED_KEY
from programmes.models import Role

from .conftest import PASSWORD
from .factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_person_signs_in_with_email_and_password(client, cast):
    mentor = UserFactory(email="plain.mentor@home.test")
    MembershipFactory(organisation=cast.org, user=mentor, role=Role.MENTOR)
    response = sign_in(client, "Plain.Mentor@home.test")
    assert response.status_code == 302
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("programmes:home", args=["home"])


def test_wrong_password_keeps_the_email_and_says_what_went_wrong(client, cast):
    response = sign_in(client, "mentor@home.test", "not-the-password")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="mentor@home.test"' in body
    assert "not correct" in body.lower() or "incorrect" in body.lower()


def test_repeated_failed_sign_ins_are_rate_limited(client, cast):
    for _ in range(5):
        assert sign_in(client, "mentor@home.test", "wrong-password").status_code == 200
    response = sign_in(client, "mentor@home.test", "wrong-password")
    assert "Too many failed login attempts" in response.content.decode()
    # Even the right password is refused while the limit holds.
    response = sign_in(client, "mentor@home.test")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_two_factor_is_asked_for_after_the_password_when_set_up(client, cast):
    user = UserFactory(email="totp.user@home.test")
    MembershipFactory(organisation=cast.org, user=user, role=Role.ADMIN)
    from .conftest import enable_totp

    secret = enable_totp(user)
    response = sign_in(client, "totp.user@home.test")
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("programmes:home", args=["home"])).status_code == 200


def test_admin_without_two_factor_is_sent_to_set_it_up(client, cast):
    admin = UserFactory(email="new.admin@home.test")
    MembershipFactory(organisation=cast.org, user=admin, role=Role.ADMIN)
    client.force_login(admin)
    url = reverse("programmes:people", args=["home"])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize("role", [Role.LEAD_NURSE, Role.EVALUATOR])
def test_lead_nurses_and_evaluators_need_two_factor_too(client, cast, role):
    user = UserFactory(email=f"{role}.nomfa@home.test")
    MembershipFactory(organisation=cast.org, user=user, role=role)
    client.force_login(user)
    response = client.get(reverse("programmes:home", args=["home"]))
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


@pytest.mark.parametrize("role", [Role.MENTOR, Role.MENTEE])
def test_mentors_and_mentees_may_choose_two_factor(client, cast, role):
    user = UserFactory(email=f"{role}.nomfa@home.test")
    MembershipFactory(organisation=cast.org, user=user, role=role)
    client.force_login(user)
    response = client.get(reverse("programmes:home", args=["home"]))
    assert response.status_code == 200
    assert "set up two-factor authentication" in response.content.decode()


def test_setting_up_totp_then_reaching_personal_data(client, cast):
    admin = UserFactory(email="setup.admin@home.test")
    MembershipFactory(organisation=cast.org, user=admin, role=Role.ADMIN)
    sign_in(client, "setup.admin@home.test")
    # Changing two-factor settings asks for the password again (allauth's reauthentication).
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)})
    assert response.status_code == 302
    assert admin.has_two_factor
    # Recovery codes are made alongside TOTP.
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert codes.status_code == 200
    assert len(codes.context["unused_codes"]) == 10
    assert client.get(reverse("programmes:people", args=["home"])).status_code == 200


@override_settings(DEMO_MODE=True)
def test_demo_mode_spares_demo_accounts_only(client, cast):
    demo = UserFactory(email="demo.admin@home.test", is_demo_account=True)
    MembershipFactory(organisation=cast.org, user=demo, role=Role.ADMIN)
    real = UserFactory(email="real.admin@home.test")
    MembershipFactory(organisation=cast.org, user=real, role=Role.ADMIN)
    client.force_login(demo)
    assert client.get(reverse("programmes:people", args=["home"])).status_code == 200
    other = Client()
    other.force_login(real)
    assert other.get(reverse("programmes:people", args=["home"])).status_code == 302


def test_demo_accounts_need_two_factor_when_demo_mode_is_off(client, cast):
    demo = UserFactory(email="demo.off@home.test", is_demo_account=True)
    MembershipFactory(organisation=cast.org, user=demo, role=Role.ADMIN)
    client.force_login(demo)
    assert client.get(reverse("programmes:people", args=["home"])).status_code == 302


def test_forgotten_password_is_reset_by_email(client, cast):
    response = client.post(reverse("account_reset_password"), {"email": "mentor@home.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^\s]+/password/reset/key/[^\s]+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(
        form_url, {"password1": "a-new-long-passphrase-9", "password2": "a-new-long-passphrase-9"}
    )
    assert response.status_code == 302
    assert sign_in(Client(), "mentor@home.test", "a-new-long-passphrase-9").status_code == 302


def test_password_reset_does_not_reveal_whether_an_account_exists(client, cast):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@nowhere.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1  # allauth tells the address no account exists; no enumeration
    assert "nobody@nowhere.test" in mail.outbox[0].to


def test_sign_out_ends_the_session(client, cast):
    client.force_login(cast.mentor)
    home = reverse("programmes:home", args=["home"])
    assert client.get(home).status_code == 200
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(home).status_code == 302


def _age_session(client, *, started_ago: int, touched_ago: int) -> None:
    session = client.session
    now = int(time.time())
    session[SESSION_STARTED_KEY] = now - started_ago
    session[SESSION_TOUCHED_KEY] = now - touched_ago
    session.save()


def test_session_ends_after_30_minutes_idle(client, cast):
    client.force_login(cast.mentor)
    home = reverse("programmes:home", args=["home"])
    _age_session(client, started_ago=29 * 60, touched_ago=29 * 60)
    assert client.get(home).status_code == 200
    _age_session(client, started_ago=40 * 60, touched_ago=31 * 60)
    response = client.get(home)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_session_ends_after_12_hours_even_when_active(client, cast):
    client.force_login(cast.mentor)
    home = reverse("programmes:home", args=["home"])
    _age_session(client, started_ago=11 * 3600, touched_ago=10)
    assert client.get(home).status_code == 200
    _age_session(client, started_ago=12 * 3600 + 1, touched_ago=10)
    assert client.get(home).status_code == 302


def test_open_sign_up_is_closed(client, db):
    response = client.get(reverse("account_signup"))
    assert "closed" in response.content.decode().lower()


def test_form_posted_without_csrf_token_is_refused(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)
    response = client.post(
        reverse("programmes:trust_create", args=["home"]), {"name": "X", "ods_code": "XYZ"}
    )
    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()
