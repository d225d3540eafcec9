"""A mentee chooses a mentor and the mentor accepts; a hybrid mentee picks from a shortlist.

Every page visited is checked with axe-core.
"""

import re

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from matching.models import MatchRequest, Shortlist
from mentoring.models import Relationship
from programmes.models import Criterion, Programme
from tests.browser.test_sign_in_journey import log_in_as
from tests.factories import MentorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def run_as(cast, model):
    """Run the cast's programme with this matching model; the mentee wants leadership."""
    with scopes_disabled():
        programme = cast.programme
        programme.matching_model = model
        programme.save()
        leadership = Criterion.objects.get(programme=programme, code="leadership")
        research = Criterion.objects.get(programme=programme, code="research_practice")
        cast.mentee_record.criteria_wanted.add(leadership, research)
        cast.mentor_record.bio = "Thirty years on the lung cancer pathway."
        cast.mentor_record.save()
        cast.mentor_record.criteria_offered.add(leadership)
        for name, specialisms, offers in [
            ("Bea Breast", "breast", research),
            ("Len Leader", "skin", leadership),
        ]:
            email = name.lower().replace(" ", ".") + "@mentors.test"
            record = MentorFactory(
                programme=programme,
                user=UserFactory(email=email, full_name=name),
                trust=cast.other_trust_same_org,
                specialisms=specialisms,
            )
            record.criteria_offered.add(offers)
    return programme


def test_a_mentee_asks_a_mentor_who_accepts(page, axe, cast, live_server):
    run_as(cast, Programme.MatchingModel.MENTEE_CHOICE)
    home = f"/o/{cast.org.slug}/"

    log_in_as(page, live_server, cast.mentee)
    page.goto(home)
    axe()
    page.get_by_role("link", name="Choose your mentor").click()
    expect(page.get_by_role("heading", name="Choose your mentor", level=1)).to_be_visible()
    expect(page.get_by_text("3 mentors with a place")).to_be_visible()
    axe()

    # Filter by what they offer and by specialism.
    page.get_by_label("What they can offer").select_option(label="Leadership development")
    page.get_by_role("button", name="Filter mentors").click()
    expect(page.get_by_role("heading", name="Len Leader", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="Bea Breast")).to_have_count(0)
    axe()
    page.get_by_label("Specialism").fill("lung")
    page.get_by_role("button", name="Filter mentors").click()
    expect(page.get_by_text("1 mentor with a place matches your filters")).to_be_visible()
    expect(page.get_by_role("heading", name="Len Leader")).to_have_count(0)
    expect(page.get_by_text("Same trust")).to_be_visible()
    axe()

    page.get_by_role("link", name="Read Mentor's profile and ask them").click()
    expect(page.get_by_role("heading", name="Mentor", level=1)).to_be_visible()
    expect(page.get_by_text("Thirty years on the lung cancer pathway.")).to_be_visible()
    axe()
    page.get_by_label("Message to the mentor").fill("I have just joined the lung MDT.")
    page.get_by_role("button", name="Send request").click()

    expect(page.get_by_role("heading", name="Your request", level=1)).to_be_visible()
    expect(page.get_by_text("Waiting for the mentor")).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw your request to Mentor")).to_be_visible()
    axe()
    with scope(organisation=cast.org):
        match_request = MatchRequest.objects.get()
    assert match_request.status == MatchRequest.Status.PENDING

    # The mentor answers from their requests page.
    page.context.clear_cookies()
    log_in_as(page, live_server, cast.mentor)
    page.goto(home)
    expect(page.get_by_text("1 request waiting for your answer")).to_be_visible()
    axe()
    page.get_by_role("link", name="Requests from mentees").click()
    expect(page.get_by_role("heading", name="Requests from mentees", level=1)).to_be_visible()
    axe()
    page.get_by_role("link", name="Answer Home Mentee's request").click()
    expect(page.get_by_text("I have just joined the lung MDT.")).to_be_visible()
    axe()
    # Declining needs a reason.
    page.get_by_role("button", name="Decline Home Mentee's request").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Enter the reason you are declining this request"
    )
    axe()
    page.get_by_role("button", name="Accept Home Mentee's request").click()
    expect(page.get_by_text("You are now Home Mentee's mentor.")).to_be_visible()
    expect(page.get_by_text("No request is waiting for your answer.")).to_be_visible()
    axe()

    # The mentee sees they are matched.
    page.context.clear_cookies()
    log_in_as(page, live_server, cast.mentee)
    page.goto(home)
    page.get_by_role("link", name="Choose your mentor").click()
    expect(page.get_by_role("heading", name="You are matched with Mentor")).to_be_visible()
    axe()
    page.get_by_role("link", name="See your mentoring relationship with Mentor").click()
    axe()
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(mentee=cast.mentee_record)
    assert relationship.route == Relationship.Route.MENTEE_CHOICE
    expect(page).to_have_url(re.compile(f"/relationships/{relationship.pk}/"))


def test_a_lead_nurse_offers_shortlists_and_the_mentee_picks_one(page, axe, cast, live_server):
    run_as(cast, Programme.MatchingModel.HYBRID)

    # Before any shortlist, the mentee is told it is being prepared.
    log_in_as(page, live_server, cast.mentee)
    page.goto(f"/o/{cast.org.slug}/")
    page.get_by_role("link", name="Your shortlist").click()
    expect(page.get_by_text("Your shortlist is being prepared.")).to_be_visible()
    axe()

    page.context.clear_cookies()
    log_in_as(page, live_server, cast.colleague)
    page.goto(f"/o/{cast.org.slug}/matching/choose/shortlists/")
    expect(page.get_by_role("heading", name="Shortlists", level=1)).to_be_visible()
    axe()
    page.get_by_role("button", name="Offer shortlist to Home Mentee").click()
    expect(page.get_by_text("Home Mentee has been offered 3 mentors")).to_be_visible()
    expect(page.get_by_role("heading", name="Choosing from a shortlist")).to_be_visible()
    axe()

    page.context.clear_cookies()
    log_in_as(page, live_server, cast.mentee)
    page.goto(f"/o/{cast.org.slug}/matching/choose/")
    expect(page.get_by_role("heading", name="Your shortlist", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="1. Mentor")).to_be_visible()
    axe()
    page.get_by_role("button", name="Choose Len Leader").click()
    expect(page.get_by_text("Len Leader is now your mentor.")).to_be_visible()
    expect(page.get_by_role("heading", name="You are matched with Len Leader")).to_be_visible()
    axe()
    with scope(organisation=cast.org):
        shortlist = Shortlist.objects.get()
        relationship = Relationship.objects.get(mentee=cast.mentee_record)
    assert shortlist.status == Shortlist.Status.CHOSEN
    assert relationship.route == Relationship.Route.SHORTLIST
