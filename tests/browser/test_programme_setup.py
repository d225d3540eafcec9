"""An admin sets up a programme run in cohorts and sees what is due next on its timeline.

Every page visited is checked with axe-core.
"""

import datetime
import re

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from programmes.models import Application, Attendance, Milestone, Programme
from tests.browser.test_sign_in_journey import log_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_date(page, legend: str, value: datetime.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(value.day))
    group.get_by_label("Month").fill(str(value.month))
    group.get_by_label("Year").fill(str(value.year))


def test_admin_creates_a_programme_adds_a_cohort_with_the_standard_timeline_and_sees_due_next(
    page, axe, cast, live_server
):
    today = timezone.localdate()
    starts = today + datetime.timedelta(days=10)
    log_in_as(page, live_server, cast.owner)

    page.goto(f"/o/{cast.org.slug}/programmes/")
    expect(page.get_by_role("heading", name="Programmes", level=1)).to_be_visible()
    axe()
    page.get_by_role("link", name="Add a programme").click()
    axe()

    # A mistake is explained, and what was typed stays.
    page.get_by_label("Aims").fill("Keep research leadership in the NHS.")
    page.get_by_label("Relationship length in months").fill("sixty")
    page.get_by_role("button", name="Save programme").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    expect(page.get_by_role("link", name="Enter the programme name")).to_be_visible()
    assert page.get_by_label("Aims").input_value() == "Keep research leadership in the NHS."
    axe()

    page.get_by_label("Programme name").fill("Research Academy Mentoring")
    page.get_by_label("SMART objectives").fill(
        "Match 20 mentees by the end of June\nRun two CPD workshops this year"
    )
    page.get_by_label("Professions covered").fill(
        "Nurses, midwives and allied health professionals"
    )
    page.get_by_label("Hybrid: shortlist, then mentee picks").check()
    page.get_by_label("Relationship length in months").fill("12")
    page.get_by_label("Runs in cohorts with applications (expressions of interest)").check()
    page.get_by_label("Applications are open").check()
    page.get_by_role("button", name="Save programme").click()
    expect(page.get_by_role("heading", name="Research Academy Mentoring", level=1)).to_be_visible()
    expect(page.get_by_text("Match 20 mentees by the end of June")).to_be_visible()
    expect(page.get_by_role("cell", name="Leadership development")).to_be_visible()
    axe()

    page.get_by_role("link", name="Change the matching criteria and their weights").click()
    axe()
    page.get_by_label("Weight for Leadership development").fill("5")
    page.get_by_label("Weight for Research funding").fill("0")
    page.get_by_role("button", name="Save criteria").click()
    expect(page.get_by_text("Switched off (weight 0): Research funding.")).to_be_visible()

    page.get_by_role("link", name="Add a cohort").click()
    axe()
    page.get_by_label("Cohort name").fill("Cohort 1")
    fill_date(page, "Applications open", today - datetime.timedelta(days=30))
    fill_date(page, "Applications close", today - datetime.timedelta(days=31))
    fill_date(page, "Cohort starts", starts)
    page.get_by_role("button", name="Save cohort").click()
    expect(
        page.get_by_role(
            "link",
            name="Applications close must be the same as or after the date applications open",
        )
    ).to_be_visible()
    axe()
    fill_date(page, "Applications close", today - datetime.timedelta(days=2))
    page.get_by_role("button", name="Save cohort").click()
    expect(page.get_by_role("heading", name="Cohort 1", level=1)).to_be_visible()
    axe()

    page.get_by_role("link", name="Add the standard timeline").click()
    axe()
    page.get_by_role("button", name="Add 7 milestones").click()
    expect(page.get_by_text("Added 7 milestones to Cohort 1")).to_be_visible()
    axe()
    with scope(organisation=cast.org):
        programme = Programme.objects.get(name="Research Academy Mentoring")
        kinds = list(
            Milestone.objects.filter(cohort__programme=programme).values_list("kind", flat=True)
        )
    assert len(kinds) == 7
    # The cohort's accepted applicants are the people whose attendance is recorded.
    with scope(organisation=cast.org):
        cohort = programme.cohorts.get(name="Cohort 1")
        for person, side in ((cast.mentee, "mentee"), (cast.mentor, "mentor")):
            Application.objects.create(
                programme=programme, cohort=cohort, applicant=person, side=side, status="accepted"
            )
    page.reload()

    page.get_by_role("link", name=re.compile(r"^Attendance at Orientation")).click()
    axe()
    page.get_by_label("Mentee").check()
    page.get_by_role("button", name="Save attendance").click()
    assert page.get_by_label("Mentee").is_checked()
    with scope(organisation=cast.org):
        assert Attendance.objects.get(milestone__cohort__programme=programme).user == cast.mentee

    page.get_by_role("link", name="Back to Cohort 1").click()
    page.get_by_role("link", name=re.compile(r"People who have not done orientation")).click()
    expect(page.get_by_role("cell", name="mentor@home.test")).to_be_visible()
    assert page.get_by_role("cell", name="mentee@home.test").count() == 0
    axe()

    page.get_by_role("link", name="Cohort 1").first.click()
    page.get_by_role("link", name="See the timeline of every cohort").click()
    expect(page.get_by_role("heading", name="Programme timeline")).to_be_visible()
    due = page.get_by_test_id("due-next")
    assert "10 days to go" in due.inner_text()
    assert "Orientation (compulsory)" in due.inner_text()
    axe()
