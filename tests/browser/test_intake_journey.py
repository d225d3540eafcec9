"""A lead nurse adds a mentee and finds them in the queue; another trust's lead nurse cannot.

Every page visited is checked with axe-core.
"""

import datetime

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from mentoring.models import Mentee
from programmes.models import Role
from tests.browser.test_sign_in_journey import log_in_as
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, MenteeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def waiting_since(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def test_lead_nurse_adds_a_mentee_who_is_queued_by_priority_and_hidden_from_other_trusts(
    page, axe, cast, live_server
):
    MenteeFactory(
        programme=cast.programme,
        trust=cast.trust,
        full_name="Olive Older",
        identified_at=waiting_since(40),
    )
    MenteeFactory(
        programme=cast.programme,
        trust=cast.trust,
        full_name="Mo Middling",
        identified_at=waiting_since(20),
    )
    queue = f"/o/{cast.org.slug}/mentoring/mentees/"

    log_in_as(page, live_server, cast.colleague)
    page.goto(queue)
    expect(page.get_by_role("heading", name="Intake queue", level=1)).to_be_visible()
    axe()

    page.get_by_role("link", name="Add a mentee").click()
    expect(page.get_by_role("heading", name="Add a mentee", level=1)).to_be_visible()
    axe()
    page.get_by_label("Full name").fill("Hana Hughes")
    page.get_by_label("Work e-mail address").fill("hana.hughes@hgh.nhs.test")
    page.get_by_label("Role", exact=True).fill("Colorectal cancer CNS")
    page.get_by_label("Specialism").fill("Colorectal")
    appointed = timezone.localdate() - datetime.timedelta(days=45)
    date = page.get_by_role("group", name="Date appointed to the role")
    date.get_by_label("Day").fill(str(appointed.day))
    date.get_by_label("Month").fill(str(appointed.month))
    date.get_by_label("Year").fill(str(appointed.year))
    page.get_by_label("Line manager's name").fill("Lee Manager")
    page.get_by_label("Line manager's e-mail address").fill("lee.manager@hgh.nhs.test")
    page.get_by_role("group", name="Who identified them?").get_by_label("Line manager").check()
    page.get_by_label("Role and responsibilities in the MDT").check()
    page.get_by_label("Prioritising workload and time management").check()
    page.get_by_role("group", name="Priority").get_by_label("High").check()
    # High priority without a reason is refused, and what was typed stays.
    page.get_by_role("button", name="Add mentee").click()

    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Enter why this mentee is high priority")
    expect(page.get_by_label("Full name")).to_have_value("Hana Hughes")
    expect(page.get_by_label("Day")).to_have_value(str(appointed.day))
    expect(page.get_by_label("Role and responsibilities in the MDT")).to_be_checked()
    expect(page.get_by_role("group", name="Priority").get_by_label("High")).to_be_checked()
    axe()
    # The error summary link takes the keyboard to the field at fault.
    summary.get_by_role("link", name="Enter why this mentee is high priority").click()
    expect(page.get_by_label("Reason for the priority")).to_be_focused()
    page.keyboard.type("First CNS post; line manager asks for early support.")
    page.get_by_role("button", name="Add mentee").click()

    # Back in the queue: high priority comes above the older medium-priority mentees.
    expect(page.get_by_role("heading", name="Intake queue", level=1)).to_be_visible()
    expect(page.get_by_text("Hana Hughes has been added to the intake queue.")).to_be_visible()
    rows = page.get_by_test_id("queue-row")
    names = [row.get_by_role("link").first.inner_text() for row in rows.all()]
    assert names == ["Hana Hughes", "Olive Older", "Mo Middling", "Home Mentee"]
    expect(rows.first).to_contain_text("High")
    axe()
    with scope(organisation=cast.org):
        hana = Mentee.objects.get(email="hana.hughes@hgh.nhs.test")
    assert hana.trust == cast.trust
    assert hana.themes == ["mdt", "workload"]

    page.get_by_role("link", name="Hana Hughes", exact=True).click()
    expect(page.get_by_role("heading", name="Hana Hughes", level=1)).to_be_visible()
    expect(page.get_by_text("lee.manager@hgh.nhs.test")).to_be_visible()
    axe()

    # A lead nurse of another trust in the same organisation cannot find her.
    coastal_lead = UserFactory(email="lead.coastal@home.test", full_name="Cora Coastal")
    MembershipFactory(
        organisation=cast.org,
        user=coastal_lead,
        role=Role.LEAD_NURSE,
        trusts=[cast.other_trust_same_org],
    )
    enable_totp(coastal_lead)
    page.context.clear_cookies()
    log_in_as(page, live_server, coastal_lead)
    page.goto(queue)
    axe()
    page.get_by_label("Name or e-mail").fill("Hana")
    page.get_by_label("Status").select_option(label="Any status")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No mentees match.")).to_be_visible()
    expect(page.get_by_text("Hana Hughes")).to_have_count(0)
    axe()

    response = page.goto(f"/o/{cast.org.slug}/mentoring/mentees/{hana.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    axe()


def test_a_mentor_keeps_their_profile(page, axe, cast, live_server):
    log_in_as(page, live_server, cast.mentor)
    page.goto(f"/o/{cast.org.slug}/mentoring/profile/")
    expect(page.get_by_role("heading", name="Your mentor profile", level=1)).to_be_visible()
    axe()
    page.get_by_role("link", name="Change your profile").click()
    expect(page.get_by_label("Most mentees at once")).to_be_visible()
    axe()
    page.get_by_label("Most mentees at once").fill("9")
    page.get_by_label("Most mentees a year").fill("6")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Most mentees a year must be the same as or more than most mentees at once"
    )
    expect(page.get_by_label("Most mentees at once")).to_have_value("9")
    axe()
    page.get_by_label("Most mentees at once").fill("3")
    page.get_by_role("group", name="Are you accepting new mentees?").get_by_label("No").check()
    page.get_by_label("Leadership development").check()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("0 of at most 3 at once")).to_be_visible()
    expect(page.get_by_text("Leadership development")).to_be_visible()
    axe()

    # An admin reads the profile from the mentors list.
    page.context.clear_cookies()
    log_in_as(page, live_server, cast.owner)
    page.goto(f"/o/{cast.org.slug}/mentoring/mentors/")
    axe()
    page.get_by_role("link", name="Mentor", exact=True).click()
    expect(page.get_by_role("heading", name="Mentor", level=1)).to_be_visible()
    axe()
