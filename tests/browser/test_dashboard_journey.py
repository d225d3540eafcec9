"""A project lead opens the programme dashboard and the equity monitoring report; both
pass axe-core, charts included."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from mentoring.models import Relationship
from tests.browser.test_sign_in_journey import log_in_as
from tests.factories import MenteeFactory
from tests.factories_matching import RelationshipFactory
from tests.test_equity_report import respond

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_project_lead_opens_the_dashboard_and_the_equity_report(page, axe, cast, live_server):
    with scopes_disabled():
        for n in range(9):
            mentee = MenteeFactory(
                programme=cast.programme, trust=cast.trust, status="active", email=f"m{n}@home.test"
            )
            RelationshipFactory(
                mentor=cast.mentor_record, mentee=mentee, stage=Relationship.Stage.NAVIGATING
            )
            respond(cast.programme, mentee, "starter", eq_sex="female", confidence_role=2)
    log_in_as(page, live_server, cast.owner)

    page.goto(f"/o/{cast.org.slug}/evaluation/reports/{cast.programme.pk}/dashboard/")
    expect(page.get_by_role("heading", name="Programme dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Mentor caseloads")).to_be_visible()
    expect(page.get_by_role("img", name="Mentees by status")).to_be_visible()
    expect(page.get_by_test_id("table-enrolment")).to_contain_text("<8")
    axe()

    page.goto(f"/o/{cast.org.slug}/evaluation/reports/{cast.programme.pk}/equity/")
    expect(page.get_by_role("heading", name="Equity monitoring", level=1)).to_be_visible()
    expect(page.get_by_text("These groups are self-declared.")).to_be_visible()
    table = page.get_by_test_id("table-equity-eq_sex")
    expect(table).to_contain_text("Female")
    expect(table).to_contain_text("Prefer not to say")
    axe()
