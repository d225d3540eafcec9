"""A lead nurse sees only the mentees of the trusts they cover, and fails closed.

The colleague lead nurse covers ``cast.trust``; ``cast.mentee_other_trust`` is in
another trust of the same organisation.
"""

import re

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django_scopes import scope

from mentoring.access import get_mentee_for, mentees_managed_by, mentees_visible_to
from mentoring.models import Mentee
from programmes.access import Access
from programmes.models import Role

from .conftest import enable_totp
from .factories import MembershipFactory, MenteeFactory, UserFactory

pytestmark = pytest.mark.django_db

MENTEE_PAGES = ["mentee_detail", "mentee_edit", "mentee_priority", "mentee_withdraw"]


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


def queue_names(client, **params):
    response = client.get(url("mentee_queue"), params)
    assert response.status_code == 200
    return {m.full_name for m in response.context["page"]}


@pytest.mark.parametrize("page", MENTEE_PAGES)
def test_lead_nurse_gets_404_for_another_trusts_mentee_pages(client, cast, page):
    client.force_login(cast.colleague)
    response = client.get(url(page, cast.mentee_other_trust.pk))
    assert response.status_code == 404
    assert "Coastal Mentee" not in response.content.decode()
    # Their own trust's mentee opens.
    assert client.get(url(page, cast.mentee_record.pk)).status_code == 200


@pytest.mark.parametrize("page", MENTEE_PAGES)
def test_another_trusts_mentee_and_a_missing_one_give_the_same_404(client, cast, page):
    client.force_login(cast.colleague)
    forbidden = client.get(url(page, cast.mentee_other_trust.pk))
    missing = client.get(url(page, 999_999))
    assert forbidden.status_code == missing.status_code == 404
    assert without_csrf_token(forbidden) == without_csrf_token(missing)


def without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_lead_nurse_cannot_change_another_trusts_mentee_by_posting(client, cast):
    client.force_login(cast.colleague)
    pk = cast.mentee_other_trust.pk
    responses = [
        client.post(url("mentee_edit", pk), {"full_name": "Changed"}),
        client.post(url("mentee_priority", pk), {"priority": "1", "priority_reason": "x"}),
        client.post(url("mentee_withdraw", pk), {"reason": "Not mine"}),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404]
    with scope(organisation=cast.org):
        mentee = Mentee.objects.get(pk=pk)
    assert (mentee.full_name, mentee.priority, mentee.status) == (
        "Coastal Mentee",
        Mentee.Priority.MEDIUM,
        Mentee.Status.IDENTIFIED,
    )


def test_lead_nurse_sees_none_of_another_trusts_mentees_in_the_queue(client, cast):
    client.force_login(cast.colleague)
    assert queue_names(client) == {"Home Mentee"}
    assert queue_names(client, status="any") == {"Home Mentee"}
    assert queue_names(client, q="Coastal") == set()
    assert queue_names(client, q="coastal.mentee@home.test") == set()
    # Asking for the other trust by id is refused, and still shows only their own.
    response = client.get(url("mentee_queue"), {"trust": cast.other_trust_same_org.pk})
    assert "Coastal Mentee" not in response.content.decode()
    assert "Home Coastal Hospital" not in response.content.decode()


def test_the_queues_trust_filter_offers_only_the_trusts_covered(client, cast):
    client.force_login(cast.colleague)
    form = client.get(url("mentee_queue")).context["form"]
    assert list(form.fields["trust"].queryset) == [cast.trust]


def test_lead_nurse_with_no_trust_sees_an_empty_queue(client, cast):
    client.force_login(cast.lead_without_trusts)
    assert queue_names(client) == set()
    assert queue_names(client, status="any", q="Mentee") == set()
    body = client.get(url("mentee_queue")).content.decode()
    assert "You are not assigned to any trust" in body
    for page in MENTEE_PAGES:
        assert client.get(url(page, cast.mentee_record.pk)).status_code == 404


def test_lead_nurse_covering_two_trusts_sees_both(client, cast):
    both = UserFactory(email="lead.both@home.test")
    MembershipFactory(
        organisation=cast.org,
        user=both,
        role=Role.LEAD_NURSE,
        trusts=[cast.trust, cast.other_trust_same_org],
    )
    enable_totp(both)
    client.force_login(both)
    assert queue_names(client) == {"Home Mentee", "Coastal Mentee"}


def test_admin_sees_every_trust_but_no_other_organisation(client, cast):
    client.force_login(cast.owner)
    names = queue_names(client, status="any")
    assert names == {"Home Mentee", "Coastal Mentee"}
    assert client.get(url("mentee_detail", cast.foreign_mentee.pk)).status_code == 404


@pytest.mark.parametrize("person", ["mentor", "mentee", "evaluator", "outsider"])
def test_people_who_are_not_admins_or_lead_nurses_cannot_open_the_queue(client, cast, person):
    client.force_login(getattr(cast, person))
    assert client.get(url("mentee_queue")).status_code == 404
    assert client.get(url("mentee_create")).status_code == 404


def test_a_mentee_added_to_one_trust_is_invisible_to_the_other_trusts_lead(client, cast):
    coastal_lead = UserFactory(email="lead.coastal@home.test")
    MembershipFactory(
        organisation=cast.org,
        user=coastal_lead,
        role=Role.LEAD_NURSE,
        trusts=[cast.other_trust_same_org],
    )
    enable_totp(coastal_lead)
    new = MenteeFactory(programme=cast.programme, trust=cast.trust, full_name="New Starter")
    client.force_login(coastal_lead)
    assert queue_names(client, q="New Starter") == set()
    assert client.get(url("mentee_detail", new.pk)).status_code == 404


# --- The access helpers themselves ---------------------------------------------------


def request_for(cast, user, roles, trusts=()):
    request = RequestFactory().get("/")
    request.user = user
    request.organisation = cast.org
    request.access = Access(
        organisation=cast.org,
        roles=frozenset(roles),
        lead_nurse_trust_ids=frozenset(t.pk for t in trusts),
    )
    return request


def test_access_helpers_fail_closed_for_a_lead_nurse_with_no_trust(cast):
    request = request_for(cast, cast.lead_without_trusts, {Role.LEAD_NURSE})
    with scope(organisation=cast.org):
        assert list(mentees_visible_to(request)) == []
        assert list(mentees_managed_by(request)) == []
        with pytest.raises(Http404):
            get_mentee_for(request, cast.mentee_record.pk)


def test_get_mentee_for_returns_the_mentee_only_within_the_trusts(cast):
    request = request_for(cast, cast.colleague, {Role.LEAD_NURSE}, [cast.trust])
    with scope(organisation=cast.org):
        assert get_mentee_for(request, cast.mentee_record.pk) == cast.mentee_record
        assert get_mentee_for(request, cast.mentee_record.pk, write=True) == cast.mentee_record
        for pk in (cast.mentee_other_trust.pk, cast.foreign_mentee.pk, 999_999):
            with pytest.raises(Http404):
                get_mentee_for(request, pk)


def test_a_mentee_reads_but_does_not_manage_their_own_record(cast):
    request = request_for(cast, cast.mentee, {Role.MENTEE})
    with scope(organisation=cast.org):
        assert list(mentees_visible_to(request)) == [cast.mentee_record]
        with pytest.raises(Http404):
            get_mentee_for(request, cast.mentee_record.pk, write=True)
