"""A mentee answers their starter survey on a phone-sized screen: they open the link
without signing in, answer page by page with the keyboard, go back and find their
answers kept, choose to share the response with their mentor and submit. Every page
is checked with axe and for horizontal scrolling at 375 px wide.
"""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from surveys.models import SurveyInvitation, SurveyResponse
from tests.test_survey_respond import make_invitation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


class Phone:
    """Checks each page: axe, no sideways scrolling at 375 px, and a screenshot."""

    def __init__(self, page, axe, folder):
        self.page, self.axe, self.folder = page, axe, folder
        self.shots = 0

    def check(self) -> None:
        self.axe()
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{self.page.url} scrolls sideways: {width}px"
        self.shots += 1
        path = self.folder / f"survey-{self.shots}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0


def choose(page, group: str, label: str) -> None:
    """Pick an answer in a group of radios or checkboxes with the keyboard."""
    option = page.get_by_role("group", name=re.compile(re.escape(group))).get_by_label(
        label, exact=True
    )
    option.focus()
    page.keyboard.press("Space")
    assert option.is_checked()


def type_into(page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.focus()
    page.keyboard.type(text)


def press(page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_mentee_answers_the_starter_survey_on_a_phone(page, axe, cast, live_server, tmp_path):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    page.set_viewport_size(PHONE)
    phone = Phone(page, axe, tmp_path)

    page.goto(f"/s/{token}/")
    assert token not in page.url
    assert page.url.endswith(f"/s/i/{invitation.pk}/page/1/")
    expect(page.get_by_text("Page 1 of 6")).to_be_visible()
    phone.check()

    # Page 1: a gap is named and what was typed is kept.
    type_into(page, "Day", "3")
    type_into(page, "Month", "2")
    type_into(page, "Year", "2025")
    choose(page, "Have you had a mentor before?", "No")
    press(page, "Continue")
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert "Enter a number for" in page.locator(".nhsuk-error-summary").inner_text()
    assert page.get_by_label("Year", exact=True).input_value() == "2025"
    phone.check()
    field = page.get_by_role("textbox", name=re.compile("How many years"))
    field.focus()
    page.keyboard.type("6")
    press(page, "Continue")

    # Page 2: the five measures.
    expect(page.get_by_role("heading", name="How you feel about your work")).to_be_visible()
    expect(page.get_by_text("Page 2 of 6")).to_be_visible()
    phone.check()
    choose(page, "How confident do you feel in your current role?", "Slightly confident")
    choose(page, "Overall, how satisfied are you with your job?", "Satisfied")
    choose(page, "How would you rate your wellbeing", "Fair")
    choose(page, "I feel I belong", "Agree")
    choose(page, "How likely are you to still be working", "Likely")
    press(page, "Continue")

    # Page 3, then back: page 2 still has the answers.
    expect(page.get_by_text("Page 3 of 6")).to_be_visible()
    phone.check()
    choose(page, "multidisciplinary team", "Slightly confident")
    press(page, "Back")
    expect(page.get_by_text("Page 2 of 6")).to_be_visible()
    assert (
        page.get_by_role("group", name=re.compile("How confident do you feel in your current"))
        .get_by_label("Slightly confident", exact=True)
        .is_checked()
    )
    assert (
        page.get_by_role("group", name=re.compile("I feel I belong"))
        .get_by_label("Agree", exact=True)
        .is_checked()
    )
    phone.check()
    press(page, "Continue")
    # The answer given on page 3 before going back was kept too.
    assert (
        page.get_by_role("group", name=re.compile("multidisciplinary team"))
        .get_by_label("Slightly confident", exact=True)
        .is_checked()
    )
    choose(page, "communicating with patients", "Moderately confident")
    choose(page, "prioritising your workload", "Not at all confident")
    choose(page, "planning your own development", "Very confident")
    press(page, "Continue")

    # Page 4: optional themes and goals.
    expect(page.get_by_text("Page 4 of 6")).to_be_visible()
    phone.check()
    choose(
        page, "Which of these would you like to explore", "Prioritising workload and managing time"
    )
    goals = page.get_by_role("textbox", name=re.compile("What would you like to get from"))
    goals.focus()
    page.keyboard.type("Feel at home in the lung MDT")
    press(page, "Continue")

    # Page 5: the optional equity questions, left blank.
    expect(page.get_by_role("heading", name="About you (optional)")).to_be_visible()
    expect(page.get_by_text("Page 5 of 6")).to_be_visible()
    phone.check()
    press(page, "Continue")

    # The last step: check, share, see the survey name, submit.
    expect(page.get_by_role("heading", name="Check and submit your answers")).to_be_visible()
    expect(page.get_by_text("Page 6 of 6")).to_be_visible()
    expect(page.get_by_text("Feel at home in the lung MDT")).to_be_visible()
    assert page.get_by_test_id("pseudonym").inner_text().count(invitation.pseudonym) == 1
    assert page.get_by_label(re.compile("^No, keep my answers")).is_checked()
    phone.check()
    choose(page, "Share this response with your mentor", "Yes, my mentor can read my answers")
    press(page, "Submit")

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert "You chose to share this response with your mentor" in page.content()
    phone.check()

    with scopes_disabled():
        response = SurveyResponse.objects.get(invitation=invitation)
        assert response.submitted_at is not None
        assert response.shared_with_mentor is True
        assert response.answers["confidence_role"] == 2
        assert response.answers["confidence_mdt"] == 2
        assert response.answers["years_registered"] == 6
        assert response.answers["role_started_on"] == "2025-02-03"
        assert response.answers["mentoring_themes"] == ["workload"]
        assert SurveyInvitation.objects.get(pk=invitation.pk).completed_at is not None

    # The link now says kindly that it was used.
    page.goto(f"/s/{token}/")
    expect(
        page.get_by_role("heading", name="This survey has already been completed")
    ).to_be_visible()
    phone.check()
    assert phone.shots == 10


def test_link_problem_pages_fit_a_phone_and_pass_axe(page, axe, cast, live_server, tmp_path):
    _, expired = make_invitation(cast.programme, mentee=cast.mentee_record, expires_in=-1)
    page.set_viewport_size(PHONE)
    phone = Phone(page, axe, tmp_path)

    page.goto(f"/s/{expired}/")
    expect(page.get_by_role("heading", name="This survey link has expired")).to_be_visible()
    phone.check()
    press(page, "E-mail me a new link")
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    phone.check()

    page.goto("/s/not-a-real-link/")
    expect(page.get_by_role("heading", name="This survey link does not work")).to_be_visible()
    phone.check()
    press(page, "E-mail me a new link")
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    phone.check()
    type_into(page, "Your work e-mail address", "someone@home.test")
    press(page, "E-mail me a new link")
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    phone.check()
