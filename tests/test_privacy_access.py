"""Subject access: everything held about one person, as JSON and as a readable PDF,
downloaded by the organisation's admin and recorded in the audit trail."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from programmes.models import AuditEvent

from .factories import MenteeFactory
from .test_privacy_erasure import NAME, seed_person

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, by poppler's pdftotext."""
    argv = [shutil.which("pdftotext"), "-layout", "-", "-"]
    return subprocess.run(argv, input=pdf, capture_output=True, check=True).stdout.decode()  # noqa: S603


def assert_download_audited(cast, pk, fmt):
    """Who downloaded whose data, when: the person only by id."""
    with scope(organisation=cast.org):
        event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert event.actor == cast.owner
    assert event.object_id == str(pk)
    assert event.object_label == f"Subject access export ({fmt})"


def download(client, cast, name, kind, pk):
    url = reverse(name, args=[cast.org.slug, kind, pk])
    return client.get(url, {"download": "1"})


def test_the_json_holds_the_persons_records_by_kind_and_no_one_elses_and_is_audited(client, cast):
    person = seed_person(cast)
    client.force_login(cast.owner)

    response = download(client, cast, "privacy:access_json", "person", person.user.pk)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    records = data["records"]
    assert records["account"][0]["email"] == "wilhelmina.t@canary.test"
    assert [m["needs"] for m in records["mentee_records"]] == ["PRIV-NEEDS-1a2b"]
    assert records["mentee_records"][0]["line_manager_name"] == "Bartholomew Quince"
    assert [a["statement"] for a in records["applications"]] == ["PRIV-STATEMENT-e7f8"]
    assert records["agreements"][0]["goals"] == "PRIV-GOALS-a3b4"
    assert len(records["session_logs"]) == 2
    assert {r["plan"] for r in records["session_records"]} == {"PRIV-PLAN-9c0d"}
    assert records["goals"][0]["updates"][0]["note"] == "PRIV-GOAL-NOTE-f7a8"
    assert records["match_requests"][0]["message"] == "PRIV-MESSAGE-2c3d"
    answers = {a["code"]: a["answer"] for a in records["survey_responses"][0]["answers"]}
    assert answers["what_helped"] == "PRIV-ANSWER-0a1b"
    assert records["memberships"][0]["role"] == "Mentee"
    assert records["access_log"]
    # Other people of the same programme are not in it.
    text = response.content.decode()
    assert "Coastal Mentee" not in text
    assert "coastal.mentee@home.test" not in text
    assert "Home Mentee" not in text
    assert_download_audited(cast, person.user.pk, "JSON")


def test_a_mentee_without_an_account_gets_their_own_records(client, cast):
    client.force_login(cast.owner)
    response = download(client, cast, "privacy:access_json", "mentee", cast.mentee_other_trust.pk)
    records = json.loads(response.content)["records"]
    assert [m["email"] for m in records["mentee_records"]] == ["coastal.mentee@home.test"]
    assert records["account"] == []
    assert "Home Mentee" not in response.content.decode()


def test_the_pdf_renders_the_same_records_readably_and_is_audited(client, cast):
    person = seed_person(cast)
    client.force_login(cast.owner)

    response = download(client, cast, "privacy:access_pdf", "person", person.user.pk)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    assert f"Personal data held about {NAME}" in text
    for expected in ("Mentee records", "Session records", "PRIV-PLAN-9c0d", "PRIV-ANSWER-0a1b"):
        assert expected in text
    assert "Coastal Mentee" not in text
    assert_download_audited(cast, person.user.pk, "PDF")


def test_opening_a_download_by_hand_goes_to_the_persons_page(client, cast):
    client.force_login(cast.owner)
    url = reverse("privacy:access_pdf", args=[cast.org.slug, "person", cast.mentor.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "privacy:person", args=[cast.org.slug, "person", cast.mentor.pk]
    )


def test_only_the_admin_of_the_persons_organisation_can_download(client, cast):
    person = seed_person(cast)
    for someone in (cast.colleague, cast.evaluator, cast.mentee, cast.other_admin):
        client.force_login(someone)
        for name in ("privacy:access_json", "privacy:access_pdf"):
            assert download(client, cast, name, "person", person.user.pk).status_code == 404
    client.force_login(cast.other_admin)
    url = reverse("privacy:access_json", args=[cast.other_org.slug, "person", person.user.pk])
    assert client.get(url, {"download": "1"}).status_code == 404
    url = reverse("privacy:access_json", args=[cast.org.slug, "mentee", cast.foreign_mentee.pk])
    client.force_login(cast.owner)
    assert client.get(url, {"download": "1"}).status_code == 404


def test_the_persons_page_lists_what_is_held_and_links_the_downloads(client, cast):
    person = seed_person(cast)
    client.force_login(cast.owner)
    response = client.get(reverse("privacy:person", args=[cast.org.slug, "person", person.user.pk]))
    page = response.content.decode()
    assert NAME in page
    assert reverse("privacy:access_pdf", args=[cast.org.slug, "person", person.user.pk]) in page
    assert reverse("privacy:erase", args=[cast.org.slug, "person", person.user.pk]) in page


def test_an_address_typed_into_a_mentee_record_admits_no_other_organisations_person(client, cast):
    # The other organisation's admin has an account there only; an admin here types
    # that address into a mentee record of their own.
    with scopes_disabled():
        MenteeFactory(programme=cast.programme, trust=cast.trust, email=cast.other_admin.email)
    client.force_login(cast.owner)
    for name in ("privacy:person", "privacy:access_json", "privacy:access_pdf"):
        url = reverse(name, args=[cast.org.slug, "person", cast.other_admin.pk])
        response = client.get(url, {"download": "1"})
        assert response.status_code == 404, name
        assert cast.other_admin.full_name not in response.content.decode()
