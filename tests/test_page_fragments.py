"""The intake queue's filter and table from the cache (programmes.fragments): worked out
once, then read until a row of the organisation changes; never shared between readers
who see different trusts or ask for different filters; every view still audited."""

# ruff: noqa: F811 - tests take test_stages' pair fixture by name

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.models import Mentee
from programmes.fragments import csrf_placeholder
from programmes.models import AuditEvent, Membership, Role

from .conftest import enable_totp
from .factories import MembershipFactory, UserFactory
from .test_intake import mentee_data

# pair: test_stages' fixture, a relationship between the cast's mentor and mentee.
from .test_stages import days_ago, log_session, pair, reload  # noqa: F401

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
    assert without_tokens(read_again.content.decode()) == without_tokens(
        worked_out.content.decode()
    )
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


# --- The relationship page -------------------------------------------------------------


def relationship_url(pair):
    return reverse("mentoring:relationship_detail", args=["home", pair.pk])


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def without_tokens(html: str) -> str:
    return CSRF_FIELD.sub('name="csrfmiddlewaretoken" value=""', html)


def test_the_relationship_page_is_worked_out_once_per_reader_and_always_audited(client, cast, pair):
    client.force_login(cast.mentor)
    with CaptureQueriesContext(connection) as first:
        worked_out = client.get(relationship_url(pair))
    with CaptureQueriesContext(connection) as second:
        read_again = client.get(relationship_url(pair))
    assert without_tokens(read_again.content.decode()) == without_tokens(
        worked_out.content.decode()
    )
    assert len(second) < len(first)
    assert "mentoring_sessionlog" in "".join(q["sql"] for q in first.captured_queries)
    assert "mentoring_sessionlog" not in "".join(q["sql"] for q in second.captured_queries)
    with scope(organisation=cast.org):
        assert AuditEvent.objects.filter(object_type="relationship", object_id=pair.pk).count() == 2


def test_a_session_logged_shows_once_a_request_in_the_organisation_has_ended(client, cast, pair):
    client.force_login(cast.mentor)
    held_on = days_ago(2)
    shown = f"{held_on.day} {held_on:%B %Y}"
    assert shown not in client.get(relationship_url(pair)).content.decode()
    log_session(cast, [pair], held_on=held_on)
    # The request that logged it ends with a new stamp for the organisation.
    client.post(reverse("mentoring:stage_move", args=["home", pair.pk]), {"direction": "none"})
    assert shown in client.get(relationship_url(pair)).content.decode()


def test_each_reader_gets_a_working_csrf_token_of_their_own(cast, pair):
    from django.test import Client

    mentor, other_session = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    mentor.force_login(cast.mentor)
    other_session.force_login(cast.mentor)
    mentor.get(relationship_url(pair))  # worked out and kept
    first = mentor.get(relationship_url(pair)).content.decode()
    second = other_session.get(relationship_url(pair)).content.decode()
    assert csrf_placeholder() not in first + second
    tokens = CSRF_FIELD.findall(first)
    assert tokens and CSRF_FIELD.findall(second)
    assert set(tokens).isdisjoint(CSRF_FIELD.findall(second))

    moved = mentor.post(
        reverse("mentoring:stage_move", args=["home", pair.pk]),
        {"direction": "forward", "csrfmiddlewaretoken": tokens[0]},
    )
    assert moved.status_code == 302
    assert reload(pair).stage != pair.stage


def test_the_mentee_and_the_mentor_never_share_a_cached_page(client, cast, pair):
    client.force_login(cast.mentor)
    as_mentor = client.get(relationship_url(pair)).content.decode()
    client.force_login(cast.mentee)
    as_mentee = client.get(relationship_url(pair))
    assert as_mentee.status_code == 200
    # Only the mentor is offered the controls that move the relationship on.
    assert reverse("mentoring:stage_move", args=["home", pair.pk]) in as_mentor
    assert reverse("mentoring:stage_move", args=["home", pair.pk]) not in as_mentee.content.decode()


def test_a_renamed_account_shows_at_once(client, cast, pair, django_capture_on_commit_callbacks):
    client.force_login(cast.mentee)
    assert "Renamed Mentor" not in client.get(relationship_url(pair)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        cast.mentor.full_name = "Renamed Mentor"
        cast.mentor.save()
    assert "Renamed Mentor" in client.get(relationship_url(pair)).content.decode()


def test_signing_in_leaves_cached_pages(client, cast, pair, django_capture_on_commit_callbacks):
    client.force_login(cast.mentor)
    first = client.get(relationship_url(pair))
    with django_capture_on_commit_callbacks(execute=True):
        cast.mentee.last_login = timezone.now()
        cast.mentee.save(update_fields=["last_login"])
    with CaptureQueriesContext(connection) as again:
        client.get(relationship_url(pair))
    assert "mentoring_sessionlog" not in "".join(q["sql"] for q in again.captured_queries)
    assert first.status_code == 200


# --- The people and mentor lists --------------------------------------------------------


def test_the_people_list_shows_two_factor_set_up_at_once(
    client, cast, django_capture_on_commit_callbacks
):
    people = reverse("programmes:people", args=["home"])
    client.force_login(cast.owner)
    newcomer = UserFactory(email="newcomer@home.test", full_name="Nia Newcomer")
    with django_capture_on_commit_callbacks(execute=True), scopes_disabled():
        MembershipFactory(organisation=cast.org, user=newcomer, role=Role.MENTOR)
    row = re.compile(r"Nia Newcomer.*?</tr>", re.S)
    assert "Not set up" in row.search(client.get(people).content.decode()).group(0)
    with django_capture_on_commit_callbacks(execute=True):
        enable_totp(newcomer)
    assert "Not set up" not in row.search(client.get(people).content.decode()).group(0)
    with scope(organisation=cast.org):
        assert AuditEvent.objects.filter(object_type="membership list").count() == 2


def test_the_mentor_list_is_kept_and_refused_to_a_mentee(client, cast):
    mentors = reverse("mentoring:mentor_list", args=["home"])
    client.force_login(cast.owner)
    with CaptureQueriesContext(connection) as first:
        as_admin = client.get(mentors)
    with CaptureQueriesContext(connection) as second:
        read_again = client.get(mentors)
    assert without_tokens(read_again.content.decode()) == without_tokens(as_admin.content.decode())
    assert len(second) < len(first)
    client.force_login(cast.colleague)
    assert client.get(mentors).status_code == 200
    client.force_login(cast.mentee)
    assert client.get(mentors).status_code == 404
