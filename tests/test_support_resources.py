"""Signposting: the admin keeps the support resources; the pair see those for the
mentee's trust and for all trusts on the relationship page, grouped by category."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from mentoring import views_support
from mentoring.models import Mentee, SupportResource
from programmes.access import Access
from programmes.models import AuditEvent

from .conftest import CANARY
from .factories_matching import RelationshipFactory

pytestmark = pytest.mark.django_db

Category = SupportResource.Category


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


def resource(organisation, title, *, category=Category.WELLBEING, trust=None, **fields):
    with scopes_disabled():
        return SupportResource.objects.create(
            organisation=organisation, title=title, category=category, trust=trust, **fields
        )


def events(organisation, **filters):
    with scope(organisation=organisation):
        return list(AuditEvent.objects.filter(organisation=organisation, **filters).order_by("pk"))


@pytest.fixture
def pair(cast):
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=Mentee.Status.ACTIVE)
    return RelationshipFactory(mentee=cast.mentee_record, mentor=cast.mentor_record)


@pytest.fixture
def resources(cast):
    return {
        "everyone": resource(
            cast.org,
            "Mental health advice",
            url="https://www.nhs.uk/mental-health/",
            description="Self-help guides.",
        ),
        "ours": resource(
            cast.org,
            "Home General nurse advocates",
            category=Category.ADVOCATE,
            trust=cast.trust,
        ),
        "courses": resource(cast.org, "Cancer nursing courses", category=Category.DEVELOPMENT),
        "coastal": resource(cast.org, "Coastal staff wellbeing", trust=cast.other_trust_same_org),
        "foreign": resource(cast.other_org, f"Foreign support {CANARY}"),
    }


def form_data(**overrides):
    data = {
        "category": "wellbeing",
        "title": "  Staff   counselling service ",
        "url": "https://hgh.example.org/counselling",
        "description": "Six free sessions, by self-referral.",
        "trust": "",
    }
    data.update(overrides)
    return data


# --- The admin's list -------------------------------------------------------------------


def test_the_admin_sees_every_resource_of_the_organisation_by_category(client, cast, resources):
    client.force_login(cast.owner)
    response = client.get(url("support_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert [category for category, _ in response.context["groups"]] == [
        "Health and wellbeing",
        "Professional nurse advocates",
        "Development and education",
    ]
    for name in ("everyone", "ours", "courses", "coastal"):
        assert resources[name].title in body
    assert CANARY not in body
    assert "All trusts" in body and "Home Coastal Hospital" in body


def test_the_admin_adds_a_resource_for_all_trusts(client, cast):
    client.force_login(cast.owner)
    response = client.post(url("support_create"), form_data(), follow=True)
    assert "Staff counselling service has been added." in response.content.decode()
    with scope(organisation=cast.org):
        added = SupportResource.objects.get()
    assert added.organisation == cast.org
    assert added.trust is None
    assert added.title == "Staff counselling service"
    assert added.url == "https://hgh.example.org/counselling"
    [event] = events(cast.org, action=AuditEvent.Action.CREATE, object_type="supportresource")
    assert event.actor == cast.owner
    assert "description" in event.fields and "title" in event.fields
    assert "Six free sessions" not in event.object_label + str(event.fields)


def test_the_admin_adds_a_resource_for_one_trust(client, cast):
    client.force_login(cast.owner)
    client.post(url("support_create"), form_data(trust=cast.trust.pk, category="advocate"))
    with scope(organisation=cast.org):
        added = SupportResource.objects.get()
    assert added.trust == cast.trust
    assert added.category == Category.ADVOCATE


def test_a_resource_needs_a_category_and_title_and_a_proper_address(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url("support_create"), form_data(category="", title="", url="not a web address")
    )
    body = response.content.decode()
    assert "Select a category" in body
    assert "Enter a title" in body
    assert "Enter a web address in the correct format" in body
    assert "Six free sessions, by self-referral." in body
    with scopes_disabled():
        assert not SupportResource.objects.exists()


def test_a_web_address_without_a_scheme_is_taken_as_https(client, cast):
    client.force_login(cast.owner)
    client.post(url("support_create"), form_data(url="hgh.example.org/support"))
    with scopes_disabled():
        assert SupportResource.objects.get().url == "https://hgh.example.org/support"


def test_another_organisations_trust_cannot_be_chosen(client, cast):
    client.force_login(cast.owner)
    response = client.post(url("support_create"), form_data(trust=cast.foreign_trust.pk))
    assert "Select a valid choice" in response.content.decode()
    assert CANARY not in response.content.decode()
    with scopes_disabled():
        assert not SupportResource.objects.exists()


def test_the_admin_changes_a_resource(client, cast, resources):
    client.force_login(cast.owner)
    item = resources["courses"]
    response = client.get(url("support_edit", item.pk))
    assert response.context["form"]["title"].value() == "Cancer nursing courses"
    response = client.post(
        url("support_edit", item.pk),
        form_data(title="Cancer nursing study days", category="development"),
        follow=True,
    )
    assert "Cancer nursing study days has been saved." in response.content.decode()
    with scopes_disabled():
        item.refresh_from_db()
    assert item.title == "Cancer nursing study days"
    [event] = events(cast.org, action=AuditEvent.Action.CHANGE, object_type="supportresource")
    assert event.object_id == str(item.pk)
    assert "title" in event.fields and "category" not in event.fields


def test_the_admin_removes_a_resource_after_confirming(client, cast, resources):
    client.force_login(cast.owner)
    item = resources["coastal"]
    response = client.get(url("support_delete", item.pk))
    assert "Remove Coastal staff wellbeing" in response.content.decode()
    with scopes_disabled():
        assert SupportResource.objects.filter(pk=item.pk).exists()
    response = client.post(url("support_delete", item.pk), follow=True)
    assert "Coastal staff wellbeing has been removed." in response.content.decode()
    with scopes_disabled():
        assert not SupportResource.objects.filter(pk=item.pk).exists()
    [event] = events(cast.org, action=AuditEvent.Action.DELETE, object_type="supportresource")
    assert event.object_id == str(item.pk)


@pytest.mark.parametrize("person", ["colleague", "mentor", "mentee", "evaluator"])
def test_only_the_admin_manages_resources(client, cast, resources, person):
    client.force_login(getattr(cast, person))
    item = resources["everyone"]
    assert client.get(url("support_list")).status_code == 404
    assert client.post(url("support_create"), form_data()).status_code == 404
    assert client.post(url("support_edit", item.pk), form_data()).status_code == 404
    assert client.post(url("support_delete", item.pk)).status_code == 404
    with scopes_disabled():
        assert SupportResource.objects.count() == 5
        assert SupportResource.objects.get(pk=item.pk).title == "Mental health advice"


def test_another_organisations_resource_cannot_be_changed_or_removed(client, cast, resources):
    client.force_login(cast.owner)
    foreign = resources["foreign"]
    for response in (
        client.get(url("support_edit", foreign.pk)),
        client.post(url("support_edit", foreign.pk), form_data()),
        client.post(url("support_delete", foreign.pk)),
    ):
        assert response.status_code == 404
        assert CANARY not in response.content.decode()
    with scopes_disabled():
        assert SupportResource.objects.filter(pk=foreign.pk).exists()


# --- The relationship page -----------------------------------------------------------


@pytest.mark.parametrize("person", ["mentor", "mentee"])
def test_the_pair_see_their_trusts_resources_and_those_for_all(
    client, cast, pair, resources, person
):
    client.force_login(getattr(cast, person))
    response = client.get(url("relationship_detail", pair.pk))
    body = response.content.decode()
    assert "Support and signposting" in body
    groups = dict(response.context["support_groups"])
    assert {c: [r.title for r in items] for c, items in groups.items()} == {
        "Health and wellbeing": ["Mental health advice"],
        "Professional nurse advocates": ["Home General nurse advocates"],
        "Development and education": ["Cancer nursing courses"],
    }
    assert "Coastal staff wellbeing" not in body
    assert CANARY not in body
    assert 'href="https://www.nhs.uk/mental-health/"' in body
    assert "Manage support resources" not in body


def test_the_admin_has_a_link_to_manage_them_from_the_relationship(client, cast, pair, resources):
    client.force_login(cast.owner)
    body = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert url("support_list") in body


def test_with_no_resources_the_panel_says_so(client, cast, pair):
    client.force_login(cast.mentor)
    body = client.get(url("relationship_detail", pair.pk)).content.decode()
    assert "No support resources have been listed yet." in body


def test_the_panel_reads_the_resources_in_one_query(cast, pair, resources):
    for number in range(20):
        resource(cast.org, f"Extra resource {number}", trust=cast.trust)
    request = RequestFactory().get("/")
    request.organisation = cast.org
    request.user = cast.mentor
    request.access = Access(organisation=cast.org, roles=frozenset({"mentor"}))
    with scope(organisation=cast.org):
        relationship = type(pair).objects.select_related("mentee").get(pk=pair.pk)
        with CaptureQueriesContext(connection) as queries:
            context = views_support.panel(request, relationship)
            shown = [r.trust for _, items in context["support_groups"] for r in items]
    assert len(queries.captured_queries) == 1
    assert len(shown) == 23
