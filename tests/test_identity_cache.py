"""The signed-in account and its roles from the cache (accounts/identity.py): read from
the database once, then from the cache until something about the person changes, and
every change that matters to what they may see counts at once."""

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from programmes.models import Membership, Role

from .conftest import PASSWORD, enable_totp
from .factories import UserFactory
from .test_cache_outage import redis_down  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def identity_cache_on(settings):
    settings.IDENTITY_CACHE = True


def home(cast):
    return reverse("programmes:home", args=[cast.org.slug])


def queue(cast):
    return reverse("mentoring:mentee_queue", args=[cast.org.slug])


def sql_of(captured) -> str:
    return "\n".join(q["sql"] for q in captured.captured_queries)


def test_the_account_and_its_roles_are_read_once_then_from_the_cache(client, cast):
    client.force_login(cast.colleague)
    with CaptureQueriesContext(connection) as first:
        assert client.get(queue(cast)).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(queue(cast)).status_code == 200
    assert '"programmes_membership"' in sql_of(first)
    assert '"accounts_user"' in sql_of(first)
    assert '"programmes_membership"' not in sql_of(second)
    assert 'FROM "accounts_user"' not in sql_of(second)
    assert "mfa_authenticator" not in sql_of(second)


def test_a_removed_membership_takes_effect_on_the_next_request(client, cast):
    client.force_login(cast.colleague)
    assert client.get(home(cast)).status_code == 200
    with scopes_disabled():
        Membership.objects.filter(user=cast.colleague, organisation=cast.org).delete()
    assert client.get(home(cast)).status_code == 404


def test_a_changed_role_takes_effect_on_the_next_request(client, cast):
    client.force_login(cast.colleague)
    assert client.get(queue(cast)).status_code == 200
    with scopes_disabled():
        membership = Membership.objects.get(user=cast.colleague, organisation=cast.org)
        membership.role = Role.MENTOR
        membership.save()
    assert client.get(queue(cast)).status_code == 404


def test_a_lead_nurses_trusts_take_effect_on_the_next_request(client, cast):
    client.force_login(cast.colleague)
    mentee = reverse("mentoring:mentee_detail", args=[cast.org.slug, cast.mentee_record.pk])
    assert client.get(mentee).status_code == 200
    with scopes_disabled():
        Membership.objects.get(user=cast.colleague, organisation=cast.org).trusts.clear()
    assert client.get(mentee).status_code == 404
    with scopes_disabled():
        cast.trust.memberships.add(
            Membership.objects.get(user=cast.colleague, organisation=cast.org)
        )
    assert client.get(mentee).status_code == 200


def test_a_deactivated_account_is_signed_out(client, cast):
    client.force_login(cast.colleague)
    assert client.get(home(cast)).status_code == 200
    cast.colleague.is_active = False
    cast.colleague.save()
    response = client.get(home(cast))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_changed_password_signs_out_other_sessions(client, cast):
    client.force_login(cast.colleague)
    assert client.get(home(cast)).status_code == 200
    cast.colleague.set_password("a-new-password-for-this-test")
    cast.colleague.save()
    assert client.get(home(cast)).status_code == 302


def test_two_factor_set_up_counts_at_once(client, cast):
    admin = UserFactory(email="new.admin@home.test")
    admin.set_password(PASSWORD)
    admin.save()
    with scopes_disabled():
        Membership.objects.create(organisation=cast.org, user=admin, role=Role.ADMIN)
    client.force_login(admin)
    response = client.get(home(cast))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))

    enable_totp(admin)
    assert client.get(home(cast)).status_code == 200

    Authenticator.objects.filter(user=admin).delete()
    assert client.get(home(cast)).status_code == 302


def test_a_renamed_organisation_is_found_under_its_new_address_only(client, cast):
    client.force_login(cast.colleague)
    old = home(cast)
    assert client.get(old).status_code == 200
    cast.org.slug = "renamed"
    cast.org.save()
    assert client.get(old).status_code == 404
    assert client.get(home(cast)).status_code == 200


def test_one_persons_cached_roles_are_never_anothers(client, cast):
    client.force_login(cast.colleague)
    assert client.get(queue(cast)).status_code == 200
    client.force_login(cast.mentor)
    assert client.get(queue(cast)).status_code == 404
    client.force_login(cast.outsider)
    assert client.get(home(cast)).status_code == 404


def test_with_redis_down_everything_is_read_from_the_database(client, cast, redis_down):  # noqa: F811
    client.force_login(cast.colleague)
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(queue(cast)).status_code == 200
        assert '"programmes_membership"' in sql_of(captured)
