"""allauth's pages in NHS.UK style: our layout, one h1, labelled fields, error summary."""

from __future__ import annotations

import itertools
import re
import time
from html.parser import HTMLParser

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-42"


class Page(HTMLParser):
    """Collects what these tests ask about: headings, labels, links, ids and element attributes."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[str, str]] = []
        self.labels: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []
        self.elements: list[tuple[str, dict]] = []
        self.title = ""
        self._open: list[list] = []  # [tag, attrs, text parts]
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attrs))
        if tag in {"h1", "h2", "h3", "label", "a", "button", "legend", "title"}:
            self._open.append([tag, attrs, []])

    def handle_data(self, data):
        for entry in self._open:
            entry[2].append(data)

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                _, attrs, parts = self._open.pop(index)
                text = " ".join("".join(parts).split())
                if tag in {"h1", "h2", "h3"}:
                    self.headings.append((tag, text))
                elif tag == "label":
                    self.labels[attrs.get("for", "")] = text
                elif tag == "a":
                    self.links.append((attrs.get("href", ""), text))
                elif tag == "button":
                    self.elements.append(("button-text", {"text": text, **attrs}))
                elif tag == "title" and not self.title:
                    self.title = text  # the document's, not an SVG's
                break

    def h1s(self) -> list[str]:
        return [text for tag, text in self.headings if tag == "h1"]

    def find(self, tag, **attrs) -> dict | None:
        for name, element_attrs in self.elements:
            if name == tag and all(element_attrs.get(k) == v for k, v in attrs.items()):
                return element_attrs
        return None

    def ids(self) -> list[str]:
        return [attrs["id"] for _, attrs in self.elements if "id" in attrs]

    def buttons(self) -> list[str]:
        return [attrs["text"] for name, attrs in self.elements if name == "button-text"]


def page(response) -> Page:
    assert response.status_code == 200, response.status_code
    return Page(response.content.decode())


def assert_our_layout(p: Page, response):
    html = response.content.decode()
    assert 'class="nhsuk-header"' in html
    assert p.find("a", **{"class": "nhsuk-skip-link", "href": "#maincontent"}) is not None
    assert p.find("main", id="maincontent") is not None
    assert "nhsuk/nhsuk-frontend.min.css" in html
    assert len(p.h1s()) == 1, p.headings
    # Headings in order: nothing deeper than one level below the one before.
    levels = [int(tag[1]) for tag, _ in p.headings]
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), p.headings
    ids = p.ids()
    assert len(ids) == len(set(ids)), ids


def assert_error_summary_links(p: Page, html: str, expected: dict[str, str]):
    assert 'class="nhsuk-error-summary"' in html
    assert ("h2", "There is a problem") in p.headings
    summary_links = {href: text for href, text in p.links if href.startswith("#id_")}
    assert summary_links == expected
    for href in expected:
        assert href[1:] in p.ids()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(db):
    return User.objects.create_user(
        email="pat.page@example.test", password=PASSWORD, full_name="Pat Page"
    )


def _recently_confirmed(client, user):
    """What allauth records after "Confirm it's you", so sensitive MFA pages open at once."""
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "email": user.email, "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    _recently_confirmed(client, member)
    return client


# --- signed out -----------------------------------------------------------------------------


def test_sign_in_page(client):
    response = client.get(reverse("account_login"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Sign in"]
    assert p.title.startswith("Sign in")
    assert p.labels == {"id_login": "Email address", "id_password": "Password"}
    login = p.find("input", id="id_login")
    assert "nhsuk-input" in login["class"] and login["type"] == "email"
    assert "placeholder" not in login
    password = p.find("input", id="id_password")
    assert "nhsuk-password-input__input" in password["class"]
    assert "Sign in" in p.buttons()
    assert (reverse("account_reset_password"), "Forgot your password?") in p.links
    # Sign-up is closed: no link to it.
    assert not any(href == reverse("account_signup") for href, _ in p.links)
    assert "sign up" not in response.content.decode().lower()


def test_failed_sign_in_shows_the_error_summary_and_keeps_the_email(client, member):
    response = client.post(
        reverse("account_login"), {"login": "pat.page@example.test", "password": "wrong"}
    )
    p = page(response)
    html = response.content.decode()
    assert 'class="nhsuk-error-summary"' in html
    assert ("h2", "There is a problem") in p.headings
    assert "not correct" in html
    assert p.title.startswith("Error: Sign in")
    assert p.find("input", id="id_login")["value"] == "pat.page@example.test"
    assert_our_layout(p, response)


def test_empty_sign_in_links_errors_to_fields(client):
    response = client.post(reverse("account_login"), {"login": "", "password": ""})
    p = page(response)
    html = response.content.decode()
    assert_error_summary_links(
        p, html, {"#id_login": "This field is required.", "#id_password": "This field is required."}
    )
    login = p.find("input", id="id_login")
    assert "nhsuk-input--error" in login["class"]
    assert "id_login_error" in login["aria-describedby"].split()
    assert p.find("span", id="id_login_error")["class"] == "nhsuk-error-message"


def test_password_reset_pages(client):
    response = client.get(reverse("account_reset_password"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Reset your password"]
    assert p.labels == {"id_email": "Email address"}
    assert "Send reset link" in p.buttons()

    response = client.post(reverse("account_reset_password"), {"email": "not an email"})
    p = page(response)
    assert_error_summary_links(
        p, response.content.decode(), {"#id_email": "Enter a valid email address."}
    )
    assert p.find("input", id="id_email")["value"] == "not an email"

    response = client.get(reverse("account_reset_password_done"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Check your email"]


def test_reset_from_key_page_sets_a_new_password(client, member, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": member.email})
    link = re.search(r"https?://\S+/password/reset/key/\S+", mailoutbox[0].body).group(0)
    response = client.get(link.split("testserver", 1)[1], follow=True)
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Set a new password"]
    assert p.labels == {"id_password1": "New password", "id_password2": "Confirm new password"}

    response = client.post(response.redirect_chain[-1][0], {"password1": "short", "password2": "x"})
    p = page(response)
    html = response.content.decode()
    assert 'class="nhsuk-error-summary"' in html
    assert any(href in {"#id_password1", "#id_password2"} for href, _ in p.links)

    response = client.get(
        reverse("account_reset_password_from_key", kwargs={"uidb36": "zz", "key": "bad-key"}),
        follow=True,
    )
    p = page(response)
    assert p.h1s() == ["This link does not work"]


def test_sign_up_is_closed(client):
    response = client.get(reverse("account_signup"))
    p = page(response)
    assert_our_layout(p, response)
    assert "closed" in p.h1s()[0].lower()


# --- signed in ---------------------------------------------------------------------------------


def test_two_factor_index_without_an_authenticator(signed_in):
    response = signed_in.get(reverse("mfa_index"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Two-factor authentication"]
    html = response.content.decode()
    assert "Not set up" in html
    assert any(href == reverse("mfa_activate_totp") for href, _ in p.links)
    assert 'class="nhsuk-summary-list"' in html


def test_two_factor_index_with_an_authenticator(signed_in, member):
    TOTP.activate(member, generate_totp_secret())
    RecoveryCodes.activate(member)
    response = signed_in.get(reverse("mfa_index"))
    p = page(response)
    html = response.content.decode()
    assert '<strong class="nhsuk-tag nhsuk-tag--green">On</strong>' in html
    hrefs = {href for href, _ in p.links}
    assert {
        reverse("mfa_deactivate_totp"),
        reverse("mfa_view_recovery_codes"),
        reverse("mfa_download_recovery_codes"),
        reverse("mfa_generate_recovery_codes"),
    } <= hrefs
    assert "10 of 10 unused" in html


def test_activate_authenticator_page(signed_in):
    response = signed_in.get(reverse("mfa_activate_totp"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Set up an authenticator app"]
    assert p.labels["id_code"] == "Authenticator code"
    code = p.find("input", id="id_code")
    assert "nhsuk-input" in code["class"] and code["name"] == "code"
    secret = response.context["form"].secret
    html = response.content.decode()
    assert f">{secret}</code>" in html
    qr = p.find("img")
    assert qr["src"].startswith("data:image/svg+xml;base64,")
    assert qr["alt"] == "QR code to scan with your authenticator app"
    assert "Turn on two-factor authentication" in p.buttons()


def test_wrong_authenticator_code_shows_errors(signed_in):
    signed_in.get(reverse("mfa_activate_totp"))
    response = signed_in.post(reverse("mfa_activate_totp"), {"code": "000000"})
    p = page(response)
    html = response.content.decode()
    assert_error_summary_links(p, html, {"#id_code": "Incorrect code."})
    code = p.find("input", id="id_code")
    assert "nhsuk-input--error" in code["class"]
    assert code["aria-describedby"] == "id_code_error"
    assert code["value"] == "000000"
    assert_our_layout(p, response)


def test_sensitive_pages_ask_to_confirm_first(client, member):
    client.force_login(member)
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Confirm it's you"]
    assert p.labels == {"id_password": "Password"}


def test_recovery_codes_pages(signed_in, member):
    TOTP.activate(member, generate_totp_secret())
    codes = RecoveryCodes.activate(member).get_unused_codes()
    response = signed_in.get(reverse("mfa_view_recovery_codes"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Recovery codes"]
    html = response.content.decode()
    assert all(code in html for code in codes)
    assert (reverse("mfa_download_recovery_codes"), "Download codes") in p.links

    response = signed_in.get(reverse("mfa_generate_recovery_codes"))
    p = page(response)
    assert p.h1s() == ["Generate new recovery codes"]
    assert "Generate new codes" in p.buttons()

    response = signed_in.get(reverse("mfa_download_recovery_codes"))
    assert response.status_code == 200
    assert codes[0] in response.content.decode()


def test_deactivate_authenticator_page(signed_in, member):
    TOTP.activate(member, generate_totp_secret())
    response = signed_in.get(reverse("mfa_deactivate_totp"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Turn off your authenticator app"]
    assert "Turn off" in p.buttons()


def test_code_step_at_sign_in(client, member):
    TOTP.activate(member, generate_totp_secret())
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.get(reverse("mfa_authenticate"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Enter your security code"]
    assert p.labels == {"id_code": "Security code"}
    assert p.buttons()[:2] == ["Sign in", "Cancel"]

    response = client.post(reverse("mfa_authenticate"), {"code": "123"})
    p = page(response)
    assert_error_summary_links(p, response.content.decode(), {"#id_code": "Incorrect code."})


def test_password_change_and_sign_out_pages(signed_in):
    response = signed_in.get(reverse("account_change_password"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Change your password"]
    assert p.labels == {
        "id_oldpassword": "Current password",
        "id_password1": "New password",
        "id_password2": "Confirm new password",
    }
    response = signed_in.get(reverse("account_logout"))
    p = page(response)
    assert_our_layout(p, response)
    assert p.h1s() == ["Sign out"]
    assert "Sign out" in p.buttons()
