"""A project lead builds this month's anonymised export in the browser, watches it
finish and downloads the workbook; every page is checked with axe-core."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from evaluation import exports
from evaluation.models import MonthlyExport
from tests.browser.test_sign_in_journey import log_in_as
from tests.factories import MenteeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_project_lead_builds_and_downloads_the_months_export(page, axe, cast, live_server):
    with scopes_disabled():
        for n in range(3):
            MenteeFactory(programme=cast.programme, trust=cast.trust, email=f"m{n}@home.test")
    log_in_as(page, live_server, cast.owner)
    page.goto(f"/o/{cast.org.slug}/programmes/{cast.programme.pk}/")
    page.get_by_role("link", name="Monthly exports").click()
    expect(page.get_by_role("heading", name="Monthly exports", level=1)).to_be_visible()
    expect(page.get_by_text("No export has been built for this programme yet.")).to_be_visible()
    axe()

    this_month = timezone.localdate().replace(day=1)
    expect(page.get_by_label("Month")).to_have_value(this_month.isoformat())
    # By keyboard: the button is reached and pressed without a mouse.
    page.get_by_role("button", name="Build the export").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Export for {this_month:%B %Y}")).to_be_visible()
    expect(page.get_by_text("Ready", exact=True)).to_be_visible()
    axe()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the Excel workbook (.xlsx)").click()
    download = download_info.value
    assert (
        download.suggested_filename == f"home-programme-{cast.programme.pk}-{this_month:%Y-%m}.xlsx"
    )
    with open(download.path(), "rb") as handle:  # Playwright's saved file has no extension
        book = openpyxl.load_workbook(io.BytesIO(handle.read()), read_only=True)
    assert book.sheetnames[:3] == ["About", "Mentees", "Mentors"]
    assert "Data dictionary" in book.sheetnames
    mentee_rows = list(book["Mentees"].iter_rows(values_only=True))
    assert len(mentee_rows) == 1 + 5  # header, the cast's two mentees and three more

    with page.expect_download() as download_info:
        page.get_by_role(
            "link", name="Download the CSV files (one zip, one file per sheet)"
        ).click()
    archive = zipfile.ZipFile(download_info.value.path())
    assert "mentees.csv" in archive.namelist()

    page.get_by_role("link", name=f"All monthly exports of {cast.programme.name}").click()
    row = page.get_by_test_id(f"export-{this_month:%Y-%m}")
    expect(row).to_contain_text("Ready")
    expect(row).to_contain_text("Owner")  # who downloaded it
    axe()


def test_the_progress_page_updates_itself_when_the_build_finishes(page, axe, cast, live_server):
    with scope(organisation=cast.org):
        export = MonthlyExport.objects.create(
            programme=cast.programme,
            month=timezone.localdate().replace(day=1),
            status=MonthlyExport.Status.QUEUED,
            requested_at=timezone.now(),
        )
    log_in_as(page, live_server, cast.evaluator)
    page.goto(f"/o/{cast.org.slug}/evaluation/exports/{cast.programme.pk}/{export.pk}/")
    expect(page.get_by_text("The export is waiting to be built.")).to_be_visible()
    axe()
    # The worker builds it while the page is open; the page notices and shows the link.
    with scope(organisation=cast.org):
        exports.build_export(export.pk)
    expect(page.get_by_role("link", name="Download the Excel workbook (.xlsx)")).to_be_visible(
        timeout=10_000
    )
    axe()


def test_evaluator_reads_baseline_versus_follow_up_with_its_charts(page, axe, cast, live_server):
    from tests.test_outcomes_report import answer

    for n, (before, after) in enumerate(
        [(2, 3), (3, 4), (3, 3), (2, 4), (1, 2), (4, 4), (2, 4), (3, 5)]
    ):
        answer(cast.programme, "starter", f"ME-{n}", confidence_role=before, wellbeing=3)
        answer(cast.programme, "closure", f"ME-{n}", confidence_role=after, wellbeing=4)
    log_in_as(page, live_server, cast.evaluator)
    page.goto(f"/o/{cast.org.slug}/programmes/{cast.programme.pk}/")
    page.get_by_role("link", name="Baseline versus follow-up").click()
    expect(page.get_by_role("heading", name="Baseline versus follow-up", level=1)).to_be_visible()
    row = page.get_by_test_id("confidence_role-closure")
    expect(row).to_contain_text("0.031")
    expect(row.get_by_role("img")).to_have_accessible_name(re.compile("3 changed by \\+1"))
    axe()
