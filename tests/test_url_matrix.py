"""Every URL, every role, both organisations.

The URL list comes from the resolver, so a new URL without a case here fails the
suite until someone decides who may see it.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .conftest import CANARY
from .url_cases import ALL, collect

pytestmark = pytest.mark.django_db

ORGANISATION_URLS, OPEN_URLS, PUBLIC_URLS = collect()

# allauth's own pages, all outside any organisation.
ALLAUTH_PREFIXES = ("account_", "mfa_")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), (f"{namespace}{entry.name}" if entry.name else None)


ALL_PATTERNS = list(_walk(get_resolver().url_patterns))


def test_every_url_is_classified():
    unclassified = []
    for route, name in ALL_PATTERNS:
        if "<slug:organisation_slug>" in route:
            if name not in ORGANISATION_URLS:
                unclassified.append(f"{route} ({name})")
        elif (
            name not in OPEN_URLS
            and name not in PUBLIC_URLS
            and not (name or "").startswith(ALLAUTH_PREFIXES)
        ):
            unclassified.append(f"{route} ({name})")
    assert not unclassified, f"Add these URLs to the matrix: {unclassified}"


def test_matrix_has_no_stale_entries():
    names = {name for _, name in ALL_PATTERNS}
    assert set(ORGANISATION_URLS) <= names


def _url(cast, name, case, *, slug_side, object_side):
    org = cast.org if slug_side == "home" else cast.other_org
    return reverse(
        name, kwargs={"organisation_slug": org.slug, **case.object_kwargs(cast, object_side)}
    )


@pytest.mark.parametrize("name", sorted(ORGANISATION_URLS))
@pytest.mark.parametrize("person", [*ALL, "outsider"])
def test_other_organisation_answers_404_without_data(client, cast, name, person):
    client.force_login(getattr(cast, person))
    case = ORGANISATION_URLS[name]
    response = client.get(_url(cast, name, case, slug_side="other", object_side="other"))
    assert response.status_code == 404
    assert CANARY not in response.content.decode()


@pytest.mark.parametrize("name", sorted(n for n, c in ORGANISATION_URLS.items() if c.kwargs))
def test_other_organisations_object_under_own_slug_answers_404(client, cast, name):
    case = ORGANISATION_URLS[name]
    client.force_login(cast.owner)
    response = client.get(_url(cast, name, case, slug_side="home", object_side="other"))
    assert response.status_code == 404
    assert CANARY not in response.content.decode()


@pytest.mark.parametrize("name", sorted(ORGANISATION_URLS))
@pytest.mark.parametrize("person", ALL)
def test_roles_see_only_the_pages_declared_for_them(client, cast, name, person):
    client.force_login(getattr(cast, person))
    case = ORGANISATION_URLS[name]
    response = client.get(_url(cast, name, case, slug_side="home", object_side="home"))
    expected = case.ok_status if person in case.allowed else 404
    assert response.status_code == expected
    assert CANARY not in response.content.decode()


@pytest.mark.parametrize("name", sorted(ORGANISATION_URLS))
def test_anonymous_visitor_is_sent_to_sign_in(client, cast, name):
    case = ORGANISATION_URLS[name]
    url = _url(cast, name, case, slug_side="home", object_side="home")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_unknown_organisation_is_404_in_nhs_style(client, cast):
    client.force_login(cast.owner)
    response = client.get("/o/no-such-organisation/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "nhsuk-header" in response.content.decode()


@pytest.mark.parametrize("name", sorted(OPEN_URLS))
def test_open_urls_show_no_tenant_data(client, cast, name):
    client.force_login(cast.owner)
    response = client.get(reverse(name), follow=True)
    assert response.status_code == 200
    assert CANARY not in response.content.decode()
