"""A lead nurse finds a mentor for a mentee and assigns one; the mentor then sees the mentee.

Every page visited is checked with axe-core; the assignment is made from the
keyboard.
"""

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from mentoring.models import Relationship
from programmes.models import Criterion, Role
from tests.browser.test_sign_in_journey import log_in_as
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, MenteeFactory, MentorFactory, UserFactory
from tests.factories_matching import RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def mentor(cast, name, *, trust, offers=("networking",), **fields):
    user = UserFactory(email=name.lower().replace(" ", ".") + "@home.test", full_name=name)
    MembershipFactory(organisation=cast.org, user=user, role=Role.MENTOR)
    enable_totp(user)
    record = MentorFactory(programme=cast.programme, user=user, trust=trust, **fields)
    with scopes_disabled():
        record.criteria_offered.set(
            Criterion.objects.filter(programme=cast.programme, code__in=offers)
        )
    return record


def test_lead_nurse_assigns_a_mentor_from_the_suggestions_and_the_mentor_sees_it(
    page, axe, cast, live_server
):
    with scopes_disabled():
        cast.mentee_record.criteria_wanted.set(
            Criterion.objects.filter(programme=cast.programme, code__in=["networking"])
        )
    alma = mentor(cast, "Alma Ashby", trust=cast.trust, specialisms="lung")
    mentor(cast, "Bea Bryant", trust=cast.other_trust_same_org, specialisms="lung")
    full = mentor(cast, "Dot Dunn", trust=cast.trust, max_concurrent=1)
    RelationshipFactory(
        mentee=MenteeFactory(programme=cast.programme, trust=cast.trust), mentor=full
    )

    log_in_as(page, live_server, cast.colleague)
    page.goto(f"/o/{cast.org.slug}/mentoring/mentees/")
    expect(page.get_by_role("heading", name="Intake queue", level=1)).to_be_visible()
    axe()

    page.get_by_role("link", name="Find a mentor for Home Mentee").click()
    expect(page.get_by_role("heading", name="Find a mentor", level=1)).to_be_visible()
    suggestions = page.get_by_test_id("suggestion")
    expect(suggestions).to_have_count(2)
    expect(suggestions.first).to_contain_text("Alma Ashby")
    expect(suggestions.first).to_contain_text("Same trust")
    expect(suggestions.first).to_contain_text("1 of 1 chosen criteria offered")
    expect(suggestions.nth(1)).to_contain_text("Other trust")
    unavailable = page.get_by_test_id("unavailable")
    expect(unavailable.filter(has_text="Dot Dunn")).to_contain_text("At capacity")
    axe()

    assign = page.get_by_role("button", name="Assign Alma Ashby")
    assign.focus()
    expect(assign).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Alma Ashby and Home Mentee", level=1)).to_be_visible()
    expect(
        page.get_by_text("Alma Ashby is now mentoring Home Mentee. We have emailed them both.")
    ).to_be_visible()
    expect(page.get_by_text("Assigned by a lead nurse or admin")).to_be_visible()
    axe()
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(mentee=cast.mentee_record)
    assert relationship.mentor == alma
    assert relationship.matched_by == cast.colleague

    # The mentee's record now names the mentor.
    page.get_by_role("link", name="Home Mentee", exact=True).first.click()
    expect(page.get_by_role("heading", name="Home Mentee", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="View the relationship with Alma Ashby")).to_be_visible()
    axe()

    page.context.clear_cookies()
    log_in_as(page, live_server, alma.user)
    page.goto(f"/o/{cast.org.slug}/mentoring/profile/")
    expect(page.get_by_role("heading", name="Your mentor profile", level=1)).to_be_visible()
    axe()
    page.get_by_role("link", name="Your mentees").first.click()
    expect(page.get_by_role("heading", name="Your mentees", level=1)).to_be_visible()
    row = page.get_by_test_id("relationship-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Home Mentee")
    expect(row).to_contain_text("Setting up")
    axe()
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Alma Ashby and Home Mentee", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="End this match early")).to_be_visible()
    axe()


def test_a_mentee_ends_a_match_early_and_the_lead_nurse_manages_exclusions(
    page, axe, cast, live_server
):
    RelationshipFactory(mentee=cast.mentee_record, mentor=cast.mentor_record)
    mentor(cast, "Bea Bryant", trust=cast.other_trust_same_org)

    log_in_as(page, live_server, cast.mentee)
    page.goto(f"/o/{cast.org.slug}/mentoring/relationships/")
    expect(page.get_by_role("heading", name="Your mentoring", level=1)).to_be_visible()
    axe()
    page.get_by_test_id("relationship-row").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Mentor and Home Mentee", level=1)).to_be_visible()
    page.get_by_role("link", name="End this match early").click()
    expect(page.get_by_role("heading", name="End the match early", level=1)).to_be_visible()
    axe()
    page.get_by_role("button", name="End the match").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter the reason for ending this match")
    axe()
    summary.get_by_role("link", name="Enter the reason for ending this match").click()
    expect(page.get_by_label("Why is this match ending?")).to_be_focused()
    page.keyboard.type("We work on different sites and cannot meet.")
    page.get_by_role("button", name="End the match").click()
    expect(page.get_by_text("Home Mentee is back in the queue for a new mentor")).to_be_visible()
    expect(page.get_by_text("Rematched").first).to_be_visible()
    axe()

    page.context.clear_cookies()
    log_in_as(page, live_server, cast.colleague)
    page.goto(f"/o/{cast.org.slug}/mentoring/mentees/{cast.mentee_record.pk}/")
    past = page.get_by_test_id("past-relationship")
    expect(past).to_contain_text("We work on different sites and cannot meet.")
    expect(page.get_by_role("link", name="Find a mentor for Home Mentee")).to_be_visible()
    axe()
    page.get_by_role("link", name="Manage exclusions for Home Mentee").click()
    expect(page.get_by_role("heading", name="Mentors never to be matched")).to_be_visible()
    expect(page.get_by_test_id("exclusion")).to_contain_text("A previous pair that ended early")
    axe()
    page.get_by_role("button", name="Exclude mentor").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Select the mentor who must not be matched with this mentee"
    )
    axe()
    page.get_by_label("Mentor", exact=True).select_option(
        label="Bea Bryant (Home Coastal Hospital)"
    )
    page.get_by_label("Declared conflict of interest").check()
    page.get_by_label("Note").fill("Declared at interview.")
    page.get_by_role("button", name="Exclude mentor").click()
    expect(
        page.get_by_text("Bea Bryant will not be suggested or matched with Home Mentee.")
    ).to_be_visible()
    expect(page.get_by_test_id("exclusion")).to_have_count(2)
    axe()
    page.get_by_role("link", name="Remove the exclusion of Bea Bryant").click()
    expect(page.get_by_role("heading", name="Remove this exclusion?")).to_be_visible()
    axe()
    page.get_by_role("button", name="Remove exclusion").click()
    expect(page.get_by_test_id("exclusion")).to_have_count(1)
    axe()

    page.get_by_role("link", name="Back to finding a mentor for Home Mentee").click()
    unavailable = page.get_by_test_id("unavailable")
    expect(unavailable.filter(has_text="Mentor")).to_contain_text(
        "A previous pair that ended early"
    )
    expect(page.get_by_role("button", name="Assign Bea Bryant")).to_be_visible()
    axe()
