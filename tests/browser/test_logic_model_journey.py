"""A project lead builds the logic model from the pilot's template by keyboard, adds a
statement bound to an indicator, and downloads the one-page PDF; axe checks each page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_sign_in_journey import log_in_as
from tests.test_report_files import pdf_pages, pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_project_lead_builds_the_logic_model_and_prints_it(page, axe, cast, live_server):
    log_in_as(page, live_server, cast.owner)
    page.goto(f"/o/{cast.org.slug}/programmes/{cast.programme.pk}/")
    page.get_by_role("link", name="Logic model", exact=True).click()
    expect(page.get_by_role("heading", name="Logic model", level=1)).to_be_visible()
    expect(page.get_by_text("This programme has no logic model yet.")).to_be_visible()
    axe()

    page.get_by_role("link", name="Change the logic model").click()
    page.get_by_role("button", name="Start from the pilot's logic model").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("The pilot's logic model is in place")).to_be_visible()
    expect(page.get_by_test_id("edit-outcomes")).to_contain_text("Legacy mentors feel valued")
    axe()

    page.get_by_label("Column").select_option("outputs")
    page.get_by_label("Statement").fill("Group peer support sessions for new CNSs.")
    page.get_by_label("Live indicator (optional)").select_option("sessions_held")
    page.get_by_label("Target (optional)").fill("24")
    page.get_by_role("button", name="Add the statement").click()
    expect(page.get_by_text("Statement added to Outputs.")).to_be_visible()
    axe()

    page.get_by_role("link", name="See the logic model with its indicators").click()
    outputs = page.get_by_test_id("column-outputs")
    expect(outputs).to_contain_text("Group peer support sessions for new CNSs.")
    expect(outputs).to_contain_text("Mentoring sessions held: 0 (target 24)")
    axe()

    page.get_by_role("button", name="Build the PDF").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("The PDF of this report is being built.")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the PDF of the logic model report").click()
    pdf = open(download_info.value.path(), "rb").read()  # noqa: SIM115
    assert pdf_pages(pdf) == 1
    assert "Group peer support sessions for new CNSs." in pdf_text(pdf)
    axe()
