"""A project lead imports a month-by-month metrics file after checking its preview, sets
the programme's baseline date and reads the figures in the baseline versus follow-up
report; every page is checked with axe-core."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_sign_in_journey import log_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_project_lead_imports_figures_sets_the_baseline_and_reads_the_report(
    page, axe, cast, live_server
):
    log_in_as(page, live_server, cast.owner)
    page.goto(f"/o/{cast.org.slug}/evaluation/metrics/{cast.programme.pk}/")
    expect(page.get_by_role("heading", name="Organisational metrics", level=1)).to_be_visible()
    expect(page.get_by_text("No figures have been entered")).to_be_visible()
    axe()

    page.get_by_role("link", name="Import figures from a CSV file").click()
    expect(page.get_by_role("heading", name="Import organisational metrics")).to_be_visible()
    axe()
    page.get_by_label("CSV file").set_input_files(str(FIXTURES / "metrics_valid.csv"))
    page.get_by_role("button", name="Check the file").click()
    expect(
        page.get_by_role("heading", name="Check the figures before you import them")
    ).to_be_visible()
    expect(page.get_by_test_id("new-count")).to_have_text("27")
    axe()
    page.get_by_role("button", name="Import 27 figures").click()
    expect(page.get_by_text("Figures imported: 27 new")).to_be_visible()
    expect(page.get_by_test_id("grid-turnover")).to_contain_text("12.5")

    # The baseline date, by keyboard: the day, month and year boxes, then the button.
    page.get_by_label("Day").fill("15")
    page.get_by_label("Month", exact=True).fill("1")
    page.get_by_label("Year").fill("2024")
    page.get_by_role("button", name="Save the baseline date").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Baseline date set to 15 January 2024")).to_be_visible()
    expect(page.get_by_test_id("baseline")).to_contain_text("15 January 2024")
    axe()

    page.get_by_role("link", name="See the baseline versus follow-up report").click()
    expect(page.get_by_role("heading", name="Organisational metrics", level=2)).to_be_visible()
    table = page.get_by_test_id("table-metric-turnover")
    expect(table).to_contain_text("Baseline (Jan 2024)")
    expect(table.get_by_role("row", name="Home General Hospital")).to_contain_text("-1.5")
    expect(page.get_by_role("heading", name="Retention", level=2)).to_be_visible()
    axe()
