"""An applicant applies on the public page, and an admin accepts the application.

Every page visited is checked with axe-core.
"""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from programmes.models import Application, Membership, Role
from tests.browser.test_sign_in_journey import log_in_as
from tests.factories import CohortFactory, ProgrammeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Are you employed by an NHS organisation?"


def test_applicant_applies_and_admin_accepts(page, axe, cast, live_server):
    today = timezone.localdate()
    academy = ProgrammeFactory(
        organisation=cast.org,
        name="Research Mentoring Academy",
        takes_applications=True,
        applications_open=True,
        eligibility_questions=QUESTION,
    )
    CohortFactory(
        programme=academy,
        name="Spring cohort",
        applications_open_on=today - datetime.timedelta(days=10),
        applications_close_on=today + datetime.timedelta(days=20),
        starts_on=today + datetime.timedelta(days=60),
    )

    # The applicant needs no account.
    page.goto(f"/apply/{cast.org.slug}/{academy.pk}/")
    expect(page.get_by_role("heading", name="Apply to Research Mentoring Academy")).to_be_visible()
    axe()
    page.get_by_label("Full name").fill("Ada Applicant")
    page.get_by_label("Email address").fill("ada.applicant@example.test")
    page.get_by_label("Mentee", exact=True).check()
    page.get_by_label(re.compile("^Spring cohort")).check()
    page.get_by_role("group", name=QUESTION).get_by_label("Yes").check()
    page.get_by_label("Most important", exact=True).select_option(label="Research funding")
    page.get_by_label("Second most important").select_option(label="Leadership development")
    # The same criterion twice is refused.
    page.get_by_label("Third most important").select_option(label="Research funding")
    page.get_by_label("Tell us about your needs or experience").fill(
        "I lead a new research team and want help with funding bids."
    )
    page.get_by_label("Conflicts of interest").fill("Professor Jo Bloggs")
    page.get_by_role("button", name="Submit application").click()

    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    assert "You chose Research funding as your first most important already" in (
        summary.inner_text()
    )
    assert page.get_by_label("Full name").input_value() == "Ada Applicant"
    assert page.get_by_label("Conflicts of interest").input_value() == "Professor Jo Bloggs"
    assert page.get_by_label("Mentee", exact=True).is_checked()
    axe()
    # The error links to the field at fault.
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_rank_3"
    page.get_by_label("Third most important").select_option(label="Career progression")
    page.get_by_role("button", name="Submit application").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    axe()
    assert [m.to for m in mail.outbox] == [["ada.applicant@example.test"]]
    with scope(organisation=cast.org):
        application = Application.objects.select_related("applicant").get()
    assert application.ranked_criteria == ["funding", "leadership", "progression"]
    assert application.eligible is True

    # The admin reviews it.
    log_in_as(page, live_server, cast.owner)
    page.goto(f"/o/{cast.org.slug}/programmes/{academy.pk}/applications/")
    expect(page.get_by_role("heading", name="Applications", exact=True)).to_be_visible()
    axe()
    page.get_by_role("link", name="Ada Applicant").click()
    expect(page.get_by_role("heading", name="Application from Ada Applicant")).to_be_visible()
    expect(page.get_by_text("Professor Jo Bloggs")).to_be_visible()
    axe()
    page.get_by_role("link", name="Accept or decline").click()
    axe()
    page.get_by_label("Accept", exact=True).check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert page.get_by_label("Accept", exact=True).is_checked()
    axe()
    page.get_by_label("Reason").fill("A strong fit for the spring cohort.")
    page.get_by_label("Trust").select_option(label="Home General Hospital (HGH)")
    page.get_by_role("button", name="Save decision").click()

    expect(page.get_by_text("We have emailed them")).to_be_visible()
    expect(page.get_by_text("A strong fit for the spring cohort.")).to_be_visible()
    axe()
    assert len(mail.outbox) == 2 and "accepted" in mail.outbox[1].subject
    with scope(organisation=cast.org):
        assert Membership.objects.filter(user=application.applicant, role=Role.MENTEE).exists()

    page.get_by_role("link", name=re.compile("^Everything about Ada Applicant")).click()
    expect(page.get_by_role("heading", name="Ada Applicant", level=1)).to_be_visible()
    axe()
