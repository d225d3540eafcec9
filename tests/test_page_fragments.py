"""The intake queue's filter and table from the cache (programmes.fragments): worked out
once, then read until a row of the organisation changes; never shared between readers
who see different trusts or ask for different filters; every view still audited."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from mentoring.models import Mentee
from programmes.models import AuditEvent, Membership, Role

from .conftest import enable_totp
from .factories import MembershipFactory, UserFactory
from .test_intake import mentee_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.REPORT_PAGE_SECONDS = 300


def queue(**query):
    url = reverse("mentoring:mentee_queue", args=["home"])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def views_audited(cast) -> int:
    with scope(organisation=cast.org):
        return AuditEvent.objects.filter(object_type="mentee list").count()


def test_the_queue_is_worked_out_once_and_every_view_is_audited(client, cast):
    client.force_login(cast.colleague)
    with CaptureQueriesContext(connection) as first:
        worked_out = client.get(queue())
    with CaptureQueriesContext(connection) as second:
        read_again = client.get(queue())
    assert read_again.context["content"] == worked_out.context["content"]
    assert "Home Mentee" in read_again.content.decode()
    assert 'FROM "mentoring_mentee"' in "".join(q["sql"] for q in first.captured_queries)
    assert 'FROM "mentoring_mentee"' not in "".join(q["sql"] for q in second.captured_queries)
    assert views_audited(cast) == 2


def test_a_mentee_added_in_the_browser_is_queued_at_once(client, cast):
    client.force_login(cast.colleague)
    assert "Priya Shah" not in client.get(queue()).content.decode()
    added = client.post(reverse("mentoring:mentee_create", args=["home"]), mentee_data(cast))
    assert added.status_code == 302
    assert "Priya Shah" in client.get(queue()).content.decode()


def test_a_bulk_change_made_in_the_organisation_shows_at_once(client, cast):
    """A bulk update sends no signal; the request that made it ends the cached queue."""
    client.force_login(cast.colleague)
    assert "Home Mentee" in client.get(queue()).content.decode()
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(full_name="Renamed Mentee")
    # Any form sent in the organisation, here one refused as invalid.
    client.post(reverse("mentoring:mentee_create", args=["home"]), {"full_name": ""})
    body = client.get(queue()).content.decode()
    assert "Renamed Mentee" in body
    assert "Home Mentee" not in body


def test_readers_covering_other_trusts_never_share_a_cached_queue(client, cast):
    client.force_login(cast.colleague)
    assert "Coastal Mentee" not in client.get(queue()).content.decode()

    coastal = UserFactory(email="coastal.lead@home.test")
    enable_totp(coastal)
    with scopes_disabled():
        MembershipFactory(
            organisation=cast.org,
            user=coastal,
            role=Role.LEAD_NURSE,
            trusts=[cast.other_trust_same_org],
        )
    client.force_login(coastal)
    body = client.get(queue()).content.decode()
    assert "Coastal Mentee" in body
    assert "Home Mentee" not in body

    client.force_login(cast.lead_without_trusts)
    body = client.get(queue()).content.decode()
    assert "Home Mentee" not in body
    assert "Coastal Mentee" not in body
    assert "No trusts yet" in body


def test_each_filter_has_its_own_cached_queue(client, cast):
    client.force_login(cast.owner)
    everyone = client.get(queue()).content.decode()
    assert "Home Mentee" in everyone and "Coastal Mentee" in everyone
    response = client.get(queue(trust=cast.other_trust_same_org.pk))
    assert response.status_code == 200, response.get("Location")
    one_trust = response.content.decode()
    assert "Coastal Mentee" in one_trust
    assert "Home Mentee" not in one_trust


def test_a_lead_nurse_given_another_trust_sees_its_mentees_at_once(client, cast):
    client.force_login(cast.colleague)
    assert "Coastal Mentee" not in client.get(queue()).content.decode()
    with scopes_disabled():
        Membership.objects.get(user=cast.colleague, organisation=cast.org).trusts.add(
            cast.other_trust_same_org
        )
    assert "Coastal Mentee" in client.get(queue()).content.decode()
