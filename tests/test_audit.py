import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from programmes.models import AuditEvent, Trust

pytestmark = pytest.mark.django_db


def events(org):
    with scope(organisation=org):
        return list(AuditEvent.objects.select_related("actor"))


def test_viewing_the_people_list_is_recorded(client, cast):
    client.force_login(cast.owner)
    client.get(reverse("programmes:people", args=["home"]))
    [event] = events(cast.org)
    assert (event.actor, event.action, event.object_type) == (
        cast.owner,
        "view",
        "membership list",
    )
    assert events(cast.other_org) == []


def test_creating_and_changing_a_trust_is_recorded_with_field_names(client, cast):
    client.force_login(cast.owner)
    url = reverse("programmes:trust_create", args=["home"])
    response = client.post(url, {"name": "Home Valley Hospital", "ods_code": "hvh"})
    assert response.status_code == 302
    with scope(organisation=cast.org):
        trust = Trust.objects.get(name="Home Valley Hospital")
    assert trust.ods_code == "HVH"
    client.post(
        reverse("programmes:trust_edit", args=["home", trust.pk]),
        {"name": "Home Valley Hospitals", "ods_code": "HVH"},
    )
    created, changed = sorted(events(cast.org), key=lambda e: e.pk)
    assert created.action == "create" and created.object_id == str(trust.pk)
    assert changed.action == "change" and changed.fields == ["name"]


def test_bad_trust_input_is_explained_and_kept(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        reverse("programmes:trust_create", args=["home"]),
        {"name": "Home General Hospital", "ods_code": "ab!"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Another trust in this organisation has that name." in body
    assert "Enter an ODS code" in body
    assert 'value="ab!"' in body
    assert events(cast.org) == []


def test_audit_events_cannot_be_changed_or_deleted(client, cast):
    client.force_login(cast.owner)
    client.get(reverse("programmes:people", args=["home"]))
    [event] = events(cast.org)
    event.object_label = "tampered"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


def test_admin_filters_the_audit_trail(client, cast):
    client.force_login(cast.owner)
    client.get(reverse("programmes:people", args=["home"]))
    client.post(
        reverse("programmes:trust_create", args=["home"]),
        {"name": "Filter Hospital", "ods_code": "FLT"},
    )
    url = reverse("programmes:audit", args=["home"])
    response = client.get(url, {"action": "create"})
    assert [e.action for e in response.context["page"]] == ["create"]
    response = client.get(url, {"actor": "nobody"})
    assert list(response.context["page"]) == []


def test_audit_trail_query_count_does_not_grow_with_events(
    client, cast, django_assert_max_num_queries
):
    from programmes.audit import record

    client.force_login(cast.owner)
    url = reverse("programmes:audit", args=["home"])
    with scope(organisation=cast.org):
        for n in range(3):
            record(organisation=cast.org, actor=cast.owner, action="view", object_type=f"thing {n}")
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    with scope(organisation=cast.org):
        for _ in range(60):
            record(organisation=cast.org, actor=cast.colleague, action="view", object_type="x")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_people_page_query_count_does_not_grow_with_people(
    client, cast, django_assert_max_num_queries
):
    from programmes.models import Role

    from .factories import MembershipFactory

    client.force_login(cast.owner)
    url = reverse("programmes:people", args=["home"])
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for _ in range(30):
        MembershipFactory(organisation=cast.org, role=Role.LEAD_NURSE, trusts=[cast.trust])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_audit_trail_filters_by_date_and_explains_a_bad_date(client, cast):
    client.force_login(cast.owner)
    client.get(reverse("programmes:people", args=["home"]))
    url = reverse("programmes:audit", args=["home"])
    today = datetime.date.today()
    response = client.get(
        url,
        {"date_from_day": today.day, "date_from_month": today.month, "date_from_year": today.year},
    )
    assert len(response.context["page"]) == 1
    response = client.get(url, {"date_to_day": "1", "date_to_month": "1", "date_to_year": "2000"})
    assert len(response.context["page"]) == 0
    response = client.get(
        url, {"date_from_day": "31", "date_from_month": "2", "date_from_year": "2026"}
    )
    body = response.content.decode()
    assert "There is a problem" in body
    assert "must be a real date" in body
    assert 'value="31"' in body


def test_an_event_is_written_with_every_column_as_given(cast):
    """Events are written by one INSERT of their own (``audit._insert``): each column
    reads back as it was given, the time is now, and an anonymous actor is kept as
    none. The label, type, id and path are cut to their columns' lengths."""
    from django.contrib.auth.models import AnonymousUser
    from django.utils import timezone

    from programmes import audit

    before = timezone.now()
    audit.record(
        organisation=cast.org,
        actor=cast.colleague,
        action=AuditEvent.Action.VIEW,
        path="/o/home/mentoring/mentees/",
        obj=cast.mentee_record,
        label="Mentee " + "x" * 300,
        fields=["role", "email", "name"],
    )
    audit.record(
        organisation=cast.org.pk,
        actor=AnonymousUser(),
        action=AuditEvent.Action.CREATE,
        path="/s/secret-token-that-is-long-enough-to-mask/",
        object_type="t" * 80,
        object_id="9" * 50,
    )
    with scope(organisation=cast.org):
        viewed, made = AuditEvent.objects.order_by("pk")
    assert viewed.organisation == cast.org
    assert viewed.actor == cast.colleague
    assert viewed.action == "view"
    assert (viewed.object_type, viewed.object_id) == ("mentee", str(cast.mentee_record.pk))
    assert viewed.object_label == ("Mentee " + "x" * 300)[:200]
    assert viewed.fields == ["email", "name", "role"]
    assert viewed.path == "/o/home/mentoring/mentees/"
    assert before <= viewed.at <= timezone.now()
    assert made.actor is None
    assert (made.object_type, made.object_id) == ("t" * 60, "9" * 40)
    assert "secret-token" not in made.path
    assert events(cast.other_org) == []
