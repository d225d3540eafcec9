"""An evaluator opens the cohort indicators report from its address: the figures for
each cohort, mentees and mentors apart, with every denominator stated; checked with
axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from demo import evaluation_cohorts
from tests.browser.test_sign_in_journey import log_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_evaluator_reads_the_cohort_indicators(page, axe, cast, live_server):
    evaluation_cohorts.seed(cast.programme)
    log_in_as(page, live_server, cast.evaluator)
    page.goto(f"/o/{cast.org.slug}/evaluation/reports/{cast.programme.pk}/cohort/")
    expect(page.get_by_role("heading", name="Cohort indicators", level=1)).to_be_visible()
    interest = page.get_by_test_id("table-interest")
    expect(interest).to_contain_text("Eligible mentee applicants per place")
    expect(interest.get_by_role("columnheader", name="Second cohort")).to_be_visible()
    expect(page.get_by_test_id("table-summative-mentee")).to_contain_text(
        "Satisfied with the match"
    )
    expect(page.get_by_test_id("table-summative-mentor")).to_contain_text("Will mentor again")
    expect(page.get_by_role("img", name="Mentees, all cohorts")).to_be_visible()
    expect(
        page.get_by_text("Response rate = responses ÷ people invited in that cohort and role")
    ).to_be_visible()
    axe()


def test_an_empty_programme_says_what_is_missing(page, axe, cast, live_server):
    log_in_as(page, live_server, cast.evaluator)
    page.goto(f"/o/{cast.org.slug}/evaluation/reports/{cast.programme.pk}/cohort/")
    expect(page.get_by_text("No mentee has been matched with a mentor yet.")).to_be_visible()
    expect(page.get_by_text("This programme does not run in cohorts")).to_be_visible()
    axe()
