"""Report pages from the cache (evaluation.report_cache, programmes.freshness): worked
out once and read again until the organisation's data changes, by a saved row or by
any request that may write; never shared between an admin and an evaluator, nor
between organisations."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from mentoring.models import Mentee
from programmes import freshness

from .factories import MenteeFactory

pytestmark = pytest.mark.django_db

TOTAL_ROW = re.compile(
    r'data-testid="table-enrolment".*?Whole programme</th>(?P<cells>.*?)</tr>', re.S
)
CELL = re.compile(r"</span>([^<]*)</td>")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
WORKED_OUT_AT = re.compile(r'Figures worked out at <time datetime="([^"]+)"')


@pytest.fixture(autouse=True)
def report_cache_on(settings):
    settings.REPORT_PAGE_SECONDS = 300


def dashboard_url(cast):
    return reverse("evaluation:dashboard", args=[cast.org.slug, cast.programme.pk])


def mentees_in_total(response) -> int:
    """The dashboard's "All mentees" figure for the whole programme."""
    cells = CELL.findall(TOTAL_ROW.search(response.content.decode()).group("cells"))
    return int(cells[-1])


def worked_out_at(response) -> datetime.datetime:
    """When the page says its figures were worked out, to the microsecond."""
    return datetime.datetime.fromisoformat(WORKED_OUT_AT.search(response.content.decode()).group(1))


def without_tokens(response) -> str:
    return CSRF_FIELD.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())


def mentees_in(programme) -> int:
    with scopes_disabled():
        return Mentee.objects.filter(programme=programme).count()


def test_a_report_is_worked_out_once_and_then_read_from_the_cache(client, cast):
    client.force_login(cast.owner)
    with CaptureQueriesContext(connection) as first:
        worked_out = client.get(dashboard_url(cast))
    with CaptureQueriesContext(connection) as second:
        read_again = client.get(dashboard_url(cast))

    assert worked_out.status_code == read_again.status_code == 200
    assert mentees_in_total(read_again) == mentees_in(cast.programme)
    assert worked_out_at(read_again) == worked_out_at(worked_out)
    assert without_tokens(read_again) == without_tokens(worked_out)
    assert len(second) < len(first)
    assert b"Figures worked out at" in read_again.content


def test_a_row_saved_in_the_organisation_is_counted_once_it_is_committed(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.owner)
    before = mentees_in_total(client.get(dashboard_url(cast)))
    with django_capture_on_commit_callbacks(execute=True), scope(organisation=cast.org):
        MenteeFactory(programme=cast.programme, trust=cast.trust)
    assert mentees_in_total(client.get(dashboard_url(cast))) == before + 1


def test_a_row_rolled_back_changes_nothing(client, cast):
    """Without a commit (a test's transaction is never committed) the stamp stays."""
    client.force_login(cast.owner)
    first = client.get(dashboard_url(cast))
    with scope(organisation=cast.org):
        MenteeFactory(programme=cast.programme, trust=cast.trust)
    again = client.get(dashboard_url(cast))
    assert worked_out_at(again) == worked_out_at(first)


def test_a_row_saved_outside_any_organisation_is_counted_once_it_is_committed(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.owner)
    before = mentees_in_total(client.get(dashboard_url(cast)))
    with django_capture_on_commit_callbacks(execute=True), scopes_disabled():
        MenteeFactory(programme=cast.programme, trust=cast.trust)
    assert mentees_in_total(client.get(dashboard_url(cast))) == before + 1


def test_a_bulk_update_is_counted_after_any_request_that_may_write(client, cast):
    """A bulk update sends no signal; the next POST in the organisation (here the
    page's own button) makes every cached report of it be worked out again."""
    client.force_login(cast.owner)
    first = client.get(dashboard_url(cast))
    with scopes_disabled():
        Mentee.objects.filter(programme=cast.programme).update(status=Mentee.Status.WITHDRAWN)
    cached = client.get(dashboard_url(cast))
    assert worked_out_at(cached) == worked_out_at(first)

    pressed = client.post(dashboard_url(cast), follow=True)

    assert pressed.redirect_chain == [(dashboard_url(cast), 302)]
    assert "The figures have been worked out again." in pressed.content.decode()
    assert worked_out_at(pressed) > worked_out_at(first)
    assert "Withdrawn" in pressed.content.decode()


def test_a_row_saved_in_another_organisation_leaves_the_cached_report(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.owner)
    first = client.get(dashboard_url(cast))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        scope(organisation=cast.other_org),
    ):
        cast.foreign_mentee.status = Mentee.Status.WITHDRAWN
        cast.foreign_mentee.save()
    assert callbacks
    again = client.get(dashboard_url(cast))
    assert worked_out_at(again) == worked_out_at(first)


def test_admins_and_evaluators_do_not_share_a_cached_copy(client, cast):
    """The outcomes report offers an admin links to set the baseline; an evaluator
    opening it after an admin must not be offered them."""
    url = reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk])
    client.force_login(cast.owner)
    assert "Set the baseline date" in client.get(url).content.decode()
    client.force_login(cast.evaluator)
    as_evaluator = client.get(url)
    assert as_evaluator.status_code == 200
    assert "Set the baseline date" not in as_evaluator.content.decode()


def test_without_a_cache_every_request_works_the_report_out(client, cast, settings):
    settings.REPORT_PAGE_SECONDS = 0
    client.force_login(cast.owner)
    first = client.get(dashboard_url(cast))
    again = client.get(dashboard_url(cast))
    assert worked_out_at(again) > worked_out_at(first)


def test_stamps_are_per_organisation_and_change_with_every_change(cast):
    home, other = freshness.stamp(cast.org), freshness.stamp(cast.other_org)
    assert home == freshness.stamp(cast.org)
    assert home != other

    freshness.changed(cast.other_org)
    assert freshness.stamp(cast.org) == home
    assert freshness.stamp(cast.other_org) != other

    freshness.changed()
    assert freshness.stamp(cast.org) != home
