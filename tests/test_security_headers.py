"""The Content Security Policy: every page, signed in or not, error pages included, carries
a policy that allows scripts and styles only from the site's own files; and the pages the
site serves hold nothing that policy would block (inline scripts, style attributes or
event-handler attributes)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import include, path, reverse

from .test_url_matrix import ORGANISATION_URLS, _url

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"


def _fault(request):
    raise RuntimeError("A fault, to show the server error page.")


# Only the server error test uses these routes: the site's own, and one that fails.
urlpatterns = [path("fault/", _fault), path("", include(settings.ROOT_URLCONF))]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def directives(response) -> dict[str, list[str]]:
    """The policy of a response, directive name to its sources."""
    policy = {}
    for part in response[CSP].split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


class InlineCodeFinder(HTMLParser):
    """Collects everything in a page that a policy without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.found.append(f'style="{value}" on <{tag}>')
            elif name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            elif name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in {name} on <{tag}>")

    handle_startendtag = handle_starttag


def inline_code(response) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    finder.close()
    return finder.found


def test_policy_allows_only_the_sites_own_scripts_and_styles(client, db):
    policy = directives(client.get(reverse("account_login")))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    every_source = {source for sources in policy.values() for source in sources}
    assert not every_source & {"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "http:"}


def test_signed_in_pages_carry_the_policy(client, cast):
    client.force_login(cast.owner)
    response = client.get(reverse("programmes:home", args=["home"]))
    assert response.status_code == 200
    assert directives(response)["script-src"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_page_not_found_carries_the_policy(client, cast):
    client.force_login(cast.owner)
    response = client.get("/o/no-such-organisation/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert directives(response)["default-src"] == ["'self'"]
    assert inline_code(response) == []


def test_refused_form_carries_the_policy(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)
    response = client.post(
        reverse("programmes:trust_create", args=["home"]), {"name": "X", "ods_code": "XYZ"}
    )
    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()
    assert directives(response)["frame-ancestors"] == ["'none'"]
    assert inline_code(response) == []


def test_too_many_attempts_page_carries_the_policy(client, db):
    reset = reverse("account_reset_password")
    for _ in range(5):
        client.post(reset, {"email": "someone@home.test"})
    response = client.post(reset, {"email": "someone@home.test"})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert directives(response)["script-src"] == ["'self'"]
    assert inline_code(response) == []


@pytest.mark.urls(__name__)
def test_server_error_page_carries_the_policy(db):
    response = Client(raise_request_exception=False).get("/fault/")
    assert response.status_code == 500
    assert directives(response)["default-src"] == ["'self'"]
    assert inline_code(response) == []


def test_public_and_account_pages_hold_no_inline_code(client, db):
    for name in (
        "account_login",
        "account_reset_password",
        "account_reset_password_done",
        "account_signup",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert CSP in response, name
        assert inline_code(response) == [], name


def test_every_page_the_owner_opens_holds_no_inline_code(client, cast):
    """Walks the owner's pages of the URL matrix: what the browser would refuse to run."""
    client.force_login(cast.owner)
    problems = {}
    pages = 0
    for name, case in sorted(ORGANISATION_URLS.items()):
        if "owner" not in case.allowed:
            continue
        response = client.get(_url(cast, name, case, slug_side="home", object_side="home"))
        assert CSP in response, name
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        if found := inline_code(response):
            problems[name] = found
    assert pages > 20
    assert problems == {}
