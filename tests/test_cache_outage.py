"""With Redis unreachable the cache answers "nothing cached" instead of failing: people
still sign in and rate-limited pages still open (their limits count nothing until it is
back)."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from config import ratelimit

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    unreachable = {
        "default": {
            "BACKEND": "config.cache.OutageTolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    with override_settings(CACHES=unreachable):
        yield


def test_the_cache_answers_nothing_cached_instead_of_failing(redis_down):
    assert cache.get("anything", "default") == "default"
    assert ratelimit.hit("key", 60) == 0
    assert ratelimit.allow("key", 1, 60)


def test_a_person_signs_in_while_redis_is_down(client, cast, redis_down):
    cast.owner.set_password(PASSWORD)
    cast.owner.save()
    response = client.post(
        reverse("account_login"), {"login": cast.owner.email, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_only_a_lock_counts_as_taken_while_redis_is_down(redis_down):
    # allauth's rate limits lock with add: they must not wait on an unreachable Redis.
    assert cache.add("allauth:rl:login:lock", True) is True
    # Any other add is refused, so a two-factor code cannot be marked used, and is
    # refused rather than accepted twice.
    assert not cache.add("allauth.mfa.totp.used?user=1&code=123456", "y")


def test_after_a_failed_call_redis_is_not_asked_again_for_a_while(redis_down, monkeypatch):
    """A Redis that does not answer costs a timeout per call; after one failure the
    cache answers at once for OUTAGE_PAUSE_SECONDS, then tries again."""
    from django.core.cache import caches

    from config import cache as outage

    backend = caches["default"]
    assert backend.get("first") is None  # fails, and pauses
    asked = []
    monkeypatch.setattr(backend._client, "get", lambda *a, **k: asked.append(a) or "answered")
    monkeypatch.setattr(backend._client, "get_many", lambda *a, **k: asked.append(a) or {})
    assert backend.get("second") is None
    assert backend.get_many(["third"]) == {}
    assert not backend.add("fourth", "x")
    assert asked == []

    monkeypatch.setattr(backend, "paused_until", outage.time.monotonic() - 1)
    assert backend.get("fifth") == "answered"
    assert len(asked) == 1


def test_stamps_made_while_redis_is_down_are_new_every_time(redis_down):
    """With Redis unreachable every stamp reads as new, so nothing cached can be read,
    however many stamps are asked for (django-redis answers each miss with one shared
    empty dict, which must not collect them)."""
    from config import stamps

    first = stamps.read("stamp:a", "stamp:b")
    assert stamps.read("stamp:a", "stamp:b") != first
    assert stamps.read("stamp:c") != stamps.read("stamp:c")
