"""Background jobs and cached pages (programmes.freshness.renewed_after_writes): a job
that writes rows by any SQL, bulk updates included, gives the organisations it wrote
in new stamps when it ends, so their cached pages are worked out again at once; a job
that writes no data row changes no stamp."""

import re

import pytest
from celery import shared_task
from django.urls import reverse
from django_scopes import scopes_disabled

from config.celery_app import OrganisationTask
from mentoring.models import Mentee
from programmes import audit, freshness
from programmes.models import AuditEvent

from .test_report_cache import worked_out_at

pytestmark = pytest.mark.django_db

WITHDRAWN = re.compile(r"Withdrawn (\d+)</title>")


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.REPORT_PAGE_SECONDS = 300


@shared_task(base=OrganisationTask, bind=True)
def withdraw_everyone(self, organisation) -> int:
    """A bulk update in the organisation's scope: no signal is sent."""
    return Mentee.objects.update(status=Mentee.Status.WITHDRAWN)


@shared_task(base=OrganisationTask, bind=True)
def only_read_and_audit(self, organisation) -> int:
    audit.record(
        organisation=organisation, actor=None, action=AuditEvent.Action.VIEW, label="a job"
    )
    return Mentee.objects.count()


@shared_task
def withdraw_everyone_everywhere() -> int:
    with scopes_disabled():
        return Mentee.objects.update(status=Mentee.Status.WITHDRAWN)


def stamps(cast) -> tuple[str, str]:
    return freshness.stamp(cast.org), freshness.stamp(cast.other_org)


def test_a_job_that_bulk_updates_renews_its_organisations_stamp_only(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.owner)
    dashboard = reverse("evaluation:dashboard", args=[cast.org.slug, cast.programme.pk])
    first = client.get(dashboard)
    assert worked_out_at(client.get(dashboard)) == worked_out_at(first)
    home, other = stamps(cast)

    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = withdraw_everyone.apply(args=[cast.org.pk]).get()

    assert withdrawn >= 1
    assert freshness.stamp(cast.org) != home
    assert freshness.stamp(cast.other_org) == other
    again = client.get(dashboard)
    assert worked_out_at(again) > worked_out_at(first)
    assert WITHDRAWN.search(again.content.decode()).group(1) == str(withdrawn)


def test_a_job_that_writes_no_data_row_renews_no_stamp(cast, django_capture_on_commit_callbacks):
    before = stamps(cast)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        counted = only_read_and_audit.apply(args=[cast.org.pk]).get()
    assert counted >= 1
    assert callbacks == []
    assert stamps(cast) == before
    with scopes_disabled():
        assert AuditEvent.objects.filter(object_label="a job").count() == 1


def test_a_job_that_writes_outside_any_scope_renews_every_stamp(
    cast, django_capture_on_commit_callbacks
):
    home, other = stamps(cast)
    with django_capture_on_commit_callbacks(execute=True):
        assert withdraw_everyone_everywhere.apply().get() >= 2
    assert freshness.stamp(cast.org) != home
    assert freshness.stamp(cast.other_org) != other


def test_without_cached_pages_a_job_runs_unwatched(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_PAGE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert withdraw_everyone.apply(args=[cast.org.pk]).get() >= 1
    assert callbacks == []
