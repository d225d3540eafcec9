"""An admin matches a whole cohort: proposes, checks each pair, swaps two pairs, publishes.

Every page visited is checked with axe-core.
"""

import re

import pytest
from django.core import mail
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from matching.models import MatchDraft
from mentoring.models import Relationship
from tests.browser.test_sign_in_journey import log_in_as
from tests.factories import CohortFactory, ProgrammeFactory
from tests.test_matching_cohort import add_mentee, add_mentor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def record_every_check(page, axe):
    """Open each unchecked pair's check page in turn and record the check."""
    while page.get_by_role("link", name=re.compile("^Check conflicts")).count():
        unchecked = page.get_by_test_id("pair-row").filter(has_text="Not checked")
        if unchecked.count() == 0:
            break
        unchecked.first.get_by_role("link", name=re.compile("^Check conflicts")).click()
        expect(
            page.get_by_role("heading", name="Check this pair for conflicts of interest")
        ).to_be_visible()
        axe()
        page.get_by_label("I have checked for conflicts of interest").check()
        page.get_by_role("button", name="Record the check").click()
        expect(page.get_by_text("Conflict of interest check recorded")).to_be_visible()


def test_admin_proposes_checks_swaps_and_publishes_a_cohort(page, axe, cast, live_server):
    programme = ProgrammeFactory(organisation=cast.org, name="Research Mentoring Academy")
    cohort = CohortFactory(programme=programme, name="Spring 2027")
    home, coastal = cast.trust, cast.other_trust_same_org
    morgan = add_mentor(programme, "Morgan Mentor", trust=home, offers=["funding"], places=1)
    riley = add_mentor(
        programme, "Riley Mentor", trust=coastal, offers=["networking", "funding"], places=2
    )
    add_mentee(programme, cohort, "Ada Mentee", trust=home, wants=["funding", "leadership"])
    add_mentee(programme, cohort, "Ben Mentee", trust=coastal, wants=["networking"])
    add_mentee(programme, cohort, "Cai Mentee", trust=home, wants=["funding"])
    add_mentee(programme, cohort, "Dee Mentee", trust=coastal, wants=["industry"])

    log_in_as(page, live_server, cast.owner)
    page.goto(f"/o/{cast.org.slug}/matching/cohorts/")
    expect(page.get_by_role("heading", name="Cohort matching", level=1)).to_be_visible()
    axe()
    page.get_by_role("link", name="Spring 2027").click()
    expect(page.get_by_role("heading", name="Match Spring 2027")).to_be_visible()
    assert page.get_by_test_id("waiting").inner_text() == "4"
    axe()

    page.get_by_role("button", name="Propose matches").click()
    expect(page.get_by_text("Matches proposed: 3 pairs, 1 not matched")).to_be_visible()
    expect(page.get_by_test_id("pair-row")).to_have_count(3)
    assert page.get_by_test_id("coi-count").inner_text() == "0 of 3 done"
    not_matched = page.get_by_test_id("unmatched-row")
    expect(not_matched).to_have_count(1)
    expect(not_matched).to_contain_text("Dee Mentee")
    expect(not_matched).to_contain_text("No criteria overlap")
    axe()

    # Publishing is refused while a pair is unchecked.
    page.get_by_role("button", name="Publish matches").click()
    expect(page.get_by_text("3 pairs still need a conflict of interest check")).to_be_visible()
    axe()
    page.get_by_role("link", name="Back to the draft").click()

    # Take Ben out of the draft, then pair him again by hand.
    page.get_by_role("link", name="Remove Ben Mentee from the draft").click()
    expect(page.get_by_role("heading", name="Remove this pair from the draft?")).to_be_visible()
    axe()
    page.get_by_role("button", name="Remove pair").click()
    expect(page.get_by_text("Ben Mentee was taken out of the draft")).to_be_visible()
    expect(page.get_by_test_id("unmatched-row")).to_have_count(2)
    axe()
    page.get_by_role("link", name="Choose a mentor for Ben Mentee").click()
    expect(page.get_by_role("heading", name="Choose a mentor for Ben Mentee")).to_be_visible()
    axe()
    page.get_by_role("button", name="Add pair").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select a mentor")
    axe()
    page.get_by_label(re.compile("^Riley Mentor")).check()
    page.get_by_role("button", name="Add pair").click()
    expect(page.get_by_text("Ben Mentee is paired with Riley Mentor in the draft.")).to_be_visible()
    expect(page.get_by_test_id("pair-row").filter(has_text="Ben Mentee")).to_contain_text(
        "Added by hand"
    )

    record_every_check(page, axe)
    assert page.get_by_test_id("coi-count").inner_text() == "3 of 3 done"
    axe()

    # Swap: Ben takes Morgan's place, and the mentee Morgan had goes to Riley.
    with scopes_disabled():
        draft = MatchDraft.objects.get(status="draft")
        morgans = draft.pairs.select_related("mentee").get(mentor=morgan).mentee.full_name
    page.get_by_role("link", name="Swap mentor of Ben Mentee").click()
    expect(page.get_by_role("heading", name="Swap the mentor of Ben Mentee")).to_be_visible()
    axe()
    page.get_by_label("Swap mentors with").select_option(label=f"{morgans} (mentor Morgan Mentor)")
    page.get_by_role("button", name="Swap mentors").click()
    expect(page.get_by_text(f"Swapped mentors: Ben Mentee and {morgans}")).to_be_visible()
    assert page.get_by_test_id("coi-count").inner_text() == "1 of 3 done"
    ben_row = page.get_by_test_id("pair-row").filter(has_text="Ben Mentee")
    expect(ben_row).to_contain_text("Morgan Mentor")
    expect(ben_row).to_contain_text("None of 1 chosen criteria offered")
    axe()

    # Both changed pairs need their check again.
    record_every_check(page, axe)
    assert page.get_by_test_id("coi-count").inner_text() == "3 of 3 done"

    page.get_by_role("button", name="Publish matches").click()
    axe()
    page.get_by_role("button", name="Publish 3 matches").click()
    expect(
        page.get_by_text("Published 3 matches. We have emailed each mentor and mentee.")
    ).to_be_visible()
    expect(page.get_by_text("3 relationships created")).to_be_visible()
    for row in page.get_by_test_id("pair-row").all():
        expect(row).to_contain_text("Matched")
    axe()

    with scopes_disabled():
        made = {
            r.mentee.full_name: r.mentor_id
            for r in Relationship.objects.filter(programme=programme).select_related("mentee")
        }
        assert MatchDraft.objects.get(pk=draft.pk).status == "published"
    assert made["Ben Mentee"] == morgan.pk
    assert made[morgans] == riley.pk
    assert len(made) == 3
    assert len(mail.outbox) == 6

    # The cohort page lists the published draft.
    page.get_by_role("link", name="Spring 2027").first.click()
    expect(page.get_by_role("link", name=re.compile("^3 matches published"))).to_be_visible()
    axe()
