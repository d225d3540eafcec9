"""A person signs in, sets up two-factor, works in two organisations and signs out.

Every page visited is checked with axe-core; the journey uses the keyboard where a
person would.
"""

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django_scopes import scope
from playwright.sync_api import expect

from programmes.models import Role, Trust
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def totp_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_signs_in_sets_up_two_factor_switches_organisation_and_signs_out(page, axe, cast):
    admin = UserFactory(email="new.admin@home.test", full_name="Nia Admin")
    MembershipFactory(organisation=cast.org, user=admin, role=Role.ADMIN)
    MembershipFactory(organisation=cast.other_org, user=admin, role=Role.MENTOR)

    page.goto("/")
    axe()
    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"

    page.goto("/accounts/login/")
    axe()
    page.get_by_label("Email").fill("new.admin@home.test")
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert page.get_by_label("Email").input_value() == "new.admin@home.test"
    axe()

    sign_in(page, "new.admin@home.test")
    # Two organisations: the person chooses one.
    expect(page.get_by_role("heading", name="Your organisations")).to_be_visible()
    axe()
    page.get_by_role("link", name="Home Cancer Alliance").click()

    # An admin must set up two-factor first; allauth asks for the password again.
    if "/reauthenticate/" in page.url:
        axe()
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name=re.compile("Confirm|Continue|Sign in")).click()
    expect(page).to_have_url(re.compile("/2fa/totp/activate/"))
    axe()
    secret = re.search(r"\b[A-Z2-7]{32}\b", page.content()).group(0)
    page.get_by_label("Authenticator code").fill(totp_now(secret))
    page.get_by_label("Authenticator code").press("Enter")
    page.wait_for_load_state()
    assert admin.has_two_factor
    axe()

    page.goto(f"/o/{cast.org.slug}/")
    expect(page.get_by_role("heading", name="Home Cancer Alliance", level=1)).to_be_visible()
    axe()

    page.get_by_role("link", name="People").first.click()
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    axe()

    page.goto(f"/o/{cast.org.slug}/trusts/")
    axe()
    page.get_by_role("link", name="Add a trust").click()
    axe()
    page.get_by_label("Name").fill("Home Hill Hospital")
    page.get_by_label("ODS code").fill("not valid!")
    page.get_by_role("button", name="Save trust").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert page.get_by_label("Name").input_value() == "Home Hill Hospital"
    axe()
    page.get_by_label("ODS code").fill("HHH")
    page.get_by_role("button", name="Save trust").click()
    expect(page.get_by_role("cell", name="Home Hill Hospital", exact=True)).to_be_visible()
    with scope(organisation=cast.org):
        assert Trust.objects.filter(ods_code="HHH").exists()

    page.goto(f"/o/{cast.org.slug}/audit/")
    expect(page.get_by_role("cell", name=re.compile("Home Hill Hospital")).first).to_be_visible()
    axe()

    # Switch to the other organisation, where this person is a mentor.
    page.get_by_role("link", name="Switch organisation").click()
    axe()
    page.get_by_role("link", name=cast.other_org.name).click()
    expect(page.get_by_test_id("current-organisation")).to_have_text(cast.other_org.name)
    assert page.get_by_role("link", name="People").count() == 0
    axe()

    page.goto("/accounts/2fa/")
    axe()

    page.get_by_role("button", name="Sign out").click()
    page.goto(f"/o/{cast.org.slug}/")
    assert "/accounts/login/" in page.url


def test_pages_for_a_signed_out_visitor_pass_axe(page, axe, db):
    for path in ["/", "/accounts/login/", "/accounts/password/reset/", "/o/nowhere/"]:
        page.goto(path)
        axe()


def log_in_as(page, live_server, user) -> None:
    """Give the browser a signed-in session without typing, for pages after sign-in."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.mark.parametrize("person", ["owner", "colleague", "evaluator", "mentor", "mentee"])
def test_every_page_a_role_can_open_passes_axe(page, axe, cast, live_server, person):
    from tests.test_url_matrix import ORGANISATION_URLS, _url

    log_in_as(page, live_server, getattr(cast, person))
    opened = 0
    for name, case in sorted(ORGANISATION_URLS.items()):
        if person not in case.allowed:
            continue
        page.goto(_url(cast, name, case, slug_side="home", object_side="home"))
        assert page.locator("main").count() == 1
        axe()
        opened += 1
    page.goto("/o/other/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    axe()
    assert opened >= 2
