"""The capability self-assessment in the browser: a mentee rates their capabilities
twice by keyboard and sees the chart, the mentor marks priorities and asks the line
manager, who marks theirs through the e-mailed link. Every page is checked with axe.
"""

import re

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from mentoring.models import Mentee, PriorityDomain, Relationship
from tests.browser.test_sign_in_journey import log_in_as
from tests.factories_matching import RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rate_every_capability(page, level_label: str) -> None:
    """Choose a level in every group of radios, using the keyboard, once the rating
    form is the page on screen (a link just followed may still be loading)."""
    expect(page.get_by_role("heading", name="Rate your capabilities", level=1)).to_be_visible()
    groups = page.locator("fieldset")
    expect(groups.first).to_be_visible()
    for index in range(groups.count()):
        radio = groups.nth(index).get_by_label(level_label, exact=True)
        radio.focus()
        page.keyboard.press("Space")
        assert radio.is_checked()


def test_mentee_mentor_and_line_manager_use_the_self_assessment(page, axe, cast, live_server):
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(
            status=Mentee.Status.ACTIVE,
            line_manager_name="Lyn Manager",
            line_manager_email="lyn.manager@hgh.test",
        )
    relationship = RelationshipFactory(
        mentee=cast.mentee_record, mentor=cast.mentor_record, stage=Relationship.Stage.NAVIGATING
    )
    home = f"/o/{cast.org.slug}/mentoring/capability/"
    overview = f"{home}mentees/{cast.mentee_record.pk}/"

    # The mentee rates every capability; a missing answer is named, the rest kept.
    log_in_as(page, live_server, cast.mentee)
    page.goto(home)
    axe()
    page.get_by_role("link", name=re.compile("Your self-assessment in")).click()
    axe()
    page.get_by_role("link", name="Rate your capabilities").click()
    axe()
    rate_every_capability(page, "Registration")
    page.locator("fieldset").first.get_by_label("Registration", exact=True).evaluate(
        "radio => { radio.checked = false; }"
    )
    page.get_by_role("button", name="Save my self-assessment").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert page.locator("fieldset").nth(1).get_by_label("Registration", exact=True).is_checked()
    axe()
    rate_every_capability(page, "Registration")
    page.get_by_role("button", name="Save my self-assessment").click()
    expect(page).to_have_url(re.compile(re.escape(overview) + "$"))
    axe()

    # Again later: the chart shows the change, with its numbers in tables.
    page.get_by_role("link", name="Rate your capabilities again").click()
    rate_every_capability(page, "Enhanced")
    page.get_by_role("button", name="Save my self-assessment").click()
    expect(page.get_by_role("heading", name="How the levels changed")).to_be_visible()
    assert page.locator('[data-testid="chart-row"]').count() > 0
    expect(page.get_by_text("Registration to Enhanced: up 1 level").first).to_be_visible()
    axe()
    page.get_by_role("link", name=re.compile("Assessment 1,")).click()
    axe()

    # The mentee marks a priority.
    page.goto(overview)
    page.get_by_role("link", name="Choose your priorities").click()
    axe()
    first_box = page.locator('input[type="checkbox"]').first
    first_box.focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save priorities").click()
    expect(page).to_have_url(re.compile(re.escape(overview) + "$"))

    # The mentor reads it, marks theirs and asks the line manager.
    log_in_as(page, live_server, cast.mentor)
    page.goto(f"/o/{cast.org.slug}/mentoring/relationships/{relationship.pk}/")
    expect(page.get_by_test_id("capability-panel")).to_be_visible()
    axe()
    page.get_by_role("link", name="Home Mentee's self-assessment and priorities").click()
    axe()
    page.get_by_role("link", name="Ask the line manager").click()
    axe()
    page.get_by_role("button", name="Send the link").click()
    expect(page).to_have_url(re.compile(re.escape(overview) + "$"))
    axe()

    # The line manager, with no account, uses the link once.
    token = re.search(r"/line-manager/([^/\s]+)/", mail.outbox[-1].body).group(1)
    page.context.clear_cookies()
    page.goto(f"/line-manager/{token}/")
    expect(page.get_by_role("heading", name="Priorities for Home's mentoring")).to_be_visible()
    axe()
    page.get_by_role("button", name="Send my priorities").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    axe()
    page.locator('input[type="checkbox"]').nth(2).check()
    page.get_by_role("button", name="Send my priorities").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    axe()
    page.goto(f"/line-manager/{token}/")
    expect(page.get_by_role("heading", name="This link has already been used")).to_be_visible()
    axe()
    page.goto("/line-manager/not-a-token/")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    axe()

    with scope(organisation=cast.org):
        assert set(PriorityDomain.objects.values_list("marked_by", flat=True)) == {
            "mentee",
            "line_manager",
        }


def test_admin_edits_the_framework(page, axe, cast, live_server):
    log_in_as(page, live_server, cast.owner)
    page.goto(f"/o/{cast.org.slug}/mentoring/capability/")
    axe()
    page.get_by_role("link", name=f"Framework of {cast.programme.name}").click()
    axe()
    page.get_by_role("button", name="Add capability").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    axe()
    page.get_by_label("Capability", exact=True).fill("Supports people at the end of life")
    page.get_by_label("Clinical practice").check()
    page.get_by_role("button", name="Add capability").click()
    expect(page.get_by_text("Supports people at the end of life").first).to_be_visible()
    page.get_by_role("link", name="Change Supports people at the end of life").click()
    axe()
    page.get_by_label("Place in the pillar").fill("0")
    page.get_by_role("button", name="Save capability").click()
    page.get_by_role("link", name="Remove Supports people at the end of life").click()
    axe()
    page.get_by_role("button", name="Remove capability").click()
    expect(page.get_by_text("Removed: Supports people at the end of life")).to_be_visible()
    axe()
