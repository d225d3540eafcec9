"""The pilot's path in the browser: a lead nurse matches a mentee, the mentor drafts and
sends the agreement, both sign it, the mentor logs three sessions and downloads the
agreement as a PDF, whose first page is rendered to check it is not blank.

Every page visited is checked with axe-core.
"""

import shutil
import subprocess

import pytest
from django.utils import timezone
from django_scopes import scope
from PIL import Image
from playwright.sync_api import expect

from mentoring.models import Agreement, Relationship, SessionLog
from tests.browser.test_sign_in_journey import log_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user):
    page.context.clear_cookies()
    log_in_as(page, live_server, user)


def first_page_dark_share(path) -> float:
    """The share of clearly dark pixels on page 1, rendered by pdftoppm."""
    root = path.with_suffix("")
    subprocess.run(  # noqa: S603
        [
            shutil.which("pdftoppm"),
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(root),
        ],
        capture_output=True,
        check=True,
    )
    image = Image.open(root.with_suffix(".png")).convert("L")
    dark = sum(image.histogram()[:128])
    return dark / (image.width * image.height)


def test_match_agreement_signed_by_both_three_sessions_and_the_pdf(
    page, axe, cast, live_server, tmp_path
):
    mentee, mentor = cast.mentee_record, cast.mentor_record

    # The lead nurse finds a mentor for the mentee and assigns with one action.
    sign_in(page, live_server, cast.colleague)
    page.goto(f"/o/home/mentoring/mentees/{mentee.pk}/")
    axe()
    page.get_by_role("link", name="Find a mentor").first.click()
    expect(page.get_by_role("heading", name="Find a mentor", level=1)).to_be_visible()
    axe()
    page.get_by_role("button", name="Assign").first.click()
    expect(page.get_by_text("is now mentoring")).to_be_visible()
    axe()
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(mentee=mentee, mentor=mentor)
    relationship_url = f"/o/home/mentoring/relationships/{relationship.pk}/"

    # The mentor drafts the agreement, sends it and signs it.
    sign_in(page, live_server, cast.mentor)
    page.goto(relationship_url)
    axe()
    page.get_by_role("link", name="Draft the agreement").click()
    axe()
    page.get_by_label("Goals for this mentoring relationship").fill(
        "Feel confident leading the lung MDT\nPlan my first year of development"
    )
    page.get_by_label("How often").fill("Once a month")
    page.get_by_label("How long").fill("One hour")
    page.get_by_label("Ongoing evaluation will be completed over").fill("12 months")
    page.get_by_label("How we will record and monitor our progress").fill(
        "The session log after each meeting, reviewed every three months."
    )
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Save draft").click()
    axe()
    page.get_by_role("button", name=f"Send to {mentee.full_name}").first.click()
    axe()
    page.goto(relationship_url)
    page.get_by_role("link", name="Sign the agreement").first.click()
    axe()
    page.get_by_label("Your full name").fill(cast.mentor.full_name)
    page.get_by_label("I agree to this mentoring agreement").check()
    page.get_by_role("button", name="Sign the agreement").click()
    axe()

    # The mentee signs with their own typed name.
    sign_in(page, live_server, cast.mentee)
    page.goto(relationship_url)
    axe()
    page.get_by_role("link", name="Sign the agreement").first.click()
    axe()
    page.get_by_label("Your full name").fill(mentee.full_name)
    page.get_by_label("I agree to this mentoring agreement").check()
    page.get_by_role("button", name="Sign the agreement").click()
    axe()
    with scope(organisation=cast.org):
        agreement = Agreement.objects.get(relationship=relationship)
        assert agreement.is_signed and agreement.is_frozen
        assert agreement.mentee_signed_name == mentee.full_name

    # The mentor logs three sessions, by keyboard-friendly form controls.
    sign_in(page, live_server, cast.mentor)
    today = timezone.localdate()
    for minutes, method in ((60, "Face to face"), (45, "Video call"), (30, "Phone")):
        page.goto(relationship_url)
        page.get_by_role("link", name="Log a session").first.click()
        page.locator("#id_held_on_day").fill(str(today.day))
        page.locator("#id_held_on_month").fill(str(today.month))
        page.locator("#id_held_on_year").fill(str(today.year))
        page.locator("#id_duration_minutes").fill(str(minutes))
        page.get_by_label(method, exact=True).check()
        page.get_by_label("Discussion or activity summary").fill(
            "Objectives for the month and progress on the MDT role."
        )
        axe()
        page.get_by_role("button", name="Log session").click()
        axe()
    with scope(organisation=cast.org):
        logs = SessionLog.objects.filter(relationships=relationship)
        assert sorted(log.duration_minutes for log in logs) == [30, 45, 60]

    # The mentor downloads the signed agreement as a PDF.
    page.goto(f"{relationship_url}agreement/")
    axe()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download version 1 as a PDF").click()
    path = tmp_path / "agreement.pdf"
    download_info.value.save_as(path)
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert first_page_dark_share(path) > 0.005
    text = subprocess.run(  # noqa: S603
        [shutil.which("pdftotext"), str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert cast.mentor.full_name in text and mentee.full_name in text
