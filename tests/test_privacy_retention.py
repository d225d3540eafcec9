"""Retention: a closed programme's people are erased once its retention period has run
out, by the daily job, once, and only that programme's records."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.models import Mentee
from privacy.models import Erasure
from privacy.tasks import erase_past_retention
from programmes.models import AuditEvent, Programme
from programmes.services.programmes import update_programme

from .factories import MenteeFactory, ProgrammeFactory
from .test_privacy_erasure import APPS, CANARIES, NAME, every_row_text, seed_person

pytestmark = pytest.mark.django_db

PROGRAMME_APPS = tuple(label for label in APPS if label not in ("accounts", "account"))


def close(programme, *, months_ago: int, keep_months: int | None) -> None:
    today = timezone.localdate()
    with scopes_disabled():
        Programme.objects.filter(pk=programme.pk).update(
            status=Programme.Status.CLOSED,
            closed_on=today.replace(day=1) - datetime.timedelta(days=31 * months_ago),
            retention_months=keep_months,
        )


def test_the_job_erases_programmes_past_retention_once_and_no_others(cast, caplog):
    person = seed_person(cast)
    close(cast.programme, months_ago=7, keep_months=6)
    with scopes_disabled():
        # Closed, but still within its six months.
        recent = ProgrammeFactory(organisation=cast.org, name="Recent programme")
        MenteeFactory(programme=recent, trust=cast.trust, full_name="Rosalind Featherstonehaugh")
        # Closed long ago with no retention period: kept.
        kept = ProgrammeFactory(organisation=cast.org, name="Kept programme")
        MenteeFactory(programme=kept, trust=cast.trust, full_name="Cornelius Ashdown-Pryce")
    close(recent, months_ago=2, keep_months=6)
    close(kept, months_ago=60, keep_months=None)

    with caplog.at_level(logging.INFO, logger="privacy.services"):
        erase_past_retention.delay()

    # The programme's records; the account and its role are the organisation's, and
    # stay until someone erases the person from the organisation.
    text = every_row_text(PROGRAMME_APPS)
    assert not [canary for canary in CANARIES if canary.lower() in text]
    assert "rosalind featherstonehaugh" in text
    assert "cornelius ashdown-pryce" in text
    with scope(organisation=cast.org):
        erasure = Erasure.objects.get()
        assert erasure.programme == cast.programme
        assert erasure.reason == Erasure.Reason.RETENTION
        event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
        assert event.object_id == str(cast.programme.pk)
        assert event.actor is None
        # The person's account and role stay: only the programme's records were erased.
        assert cast.org.memberships.filter(user=person.user).exists()
    line = next(r for r in caplog.records if r.getMessage() == "retention erasure")
    assert line.programme == cast.programme.pk
    assert NAME not in str(line.__dict__)

    with scopes_disabled():
        events = AuditEvent.objects.count()
    erase_past_retention.delay()
    assert every_row_text(PROGRAMME_APPS) == text
    with scopes_disabled():
        assert AuditEvent.objects.count() == events


def test_a_programme_is_erased_only_once_its_date_has_passed(cast):
    close(cast.programme, months_ago=1, keep_months=3)
    erase_past_retention.delay()
    with scopes_disabled():
        assert not Erasure.objects.exists()
        assert Mentee.objects.get(pk=cast.mentee_other_trust.pk).full_name == "Coastal Mentee"


def test_closing_a_programme_dates_it_and_reopening_clears_the_date(cast):
    with scope(organisation=cast.org):
        update_programme(cast.programme, values={"status": Programme.Status.CLOSED})
        assert cast.programme.closed_on == timezone.localdate()
        update_programme(cast.programme, values={"status": Programme.Status.ACTIVE})
        cast.programme.refresh_from_db()
    assert cast.programme.closed_on is None


def test_the_admin_sets_the_retention_period_on_the_programme_form(client, cast):
    client.force_login(cast.owner)
    url = reverse("programmes:programme_edit", args=[cast.org.slug, cast.programme.pk])
    page = client.get(url).content.decode()
    assert "Months to keep personal data after the programme closes" in page
    with scopes_disabled():
        programme = Programme.objects.get(pk=cast.programme.pk)
    form = {
        "name": programme.name,
        "matching_model": programme.matching_model,
        "status": Programme.Status.CLOSED,
        "confidentiality_statement": programme.confidentiality_statement,
        "retention_months": "24",
        **{
            name: getattr(programme, name)
            for name in (
                "shortlist_size",
                "shortlist_days",
                "request_reply_days",
                "relationship_months",
                "caseload_target",
                "eligibility_months",
                "inactivity_days",
            )
        },
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    programme.refresh_from_db()
    assert programme.retention_months == 24
    assert programme.closed_on == timezone.localdate()
