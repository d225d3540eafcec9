"""Production settings pass Django's deployment checklist, and the security headers and
cookies they ask for are what a browser really gets."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter with production settings: the deployment checklist at
# warning level, then the settings the checks below read.
PROBE = """
import json, django
from django.conf import settings
from django.core.management import call_command
django.setup()
call_command("check", deploy=True, fail_level="WARNING")
names = [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_NAME", "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_NAME", "X_FRAME_OPTIONS",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "SECURE_REDIRECT_EXEMPT",
    "CONTENT_SECURITY_POLICY",
]
print("SETTINGS=" + json.dumps({name: getattr(settings, name) for name in names}))
"""


def production_environment(var_dir: Path) -> dict[str, str]:
    """What a production deployment sets, and nothing left over from the test run."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "DEMO_", "CELERY_"))
    }
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "mentoring.example.nhs.uk",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://mentoring.example.nhs.uk",
        "DATABASE_URL": "postgres://mentoring:secret@db.internal:5432/mentoring",
        "REDIS_URL": "redis://cache.internal:6379/0",
        "EMAIL_HOST": "smtp.example.nhs.uk",
        "SITE_URL": "https://mentoring.example.nhs.uk",
        "VAR_DIR": str(var_dir),
        "STATIC_ROOT": str(var_dir / "static"),
    }


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict:
    """Production's settings, read after the deployment checklist passed."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=production_environment(tmp_path_factory.mktemp("production")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("SETTINGS="))
    return json.loads(line.removeprefix("SETTINGS="))


def test_the_deployment_checklist_passes_without_a_warning(production):
    # The fixture fails on any warning; this states what it established.
    assert production["DEBUG"] is False


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path):
    environment = production_environment(tmp_path) | {"DJANGO_SECRET_KEY": "too-short"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set to a random value of 50+ characters" in result.stderr


def test_https_is_required_and_remembered_for_a_year_with_subdomains(production):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_HSTS_PRELOAD"] is True


def test_cookies_go_only_over_https(production):
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production["CSRF_COOKIE_NAME"].startswith("__Host-")


def test_pages_may_not_be_framed_sniffed_or_leak_their_address(production):
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["SECURE_REFERRER_POLICY"] == "same-origin"
    policy = production["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]


def _as_in_production(production: dict):
    """The test settings with production's transport security, for real responses."""
    names = [
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_NAME",
        "SECURE_REDIRECT_EXEMPT",
    ]
    return override_settings(**{name: production[name] for name in names})


def test_a_real_response_carries_the_production_headers(production, db):
    with _as_in_production(production):
        response = Client().get(reverse("account_login"), secure=True)
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    assert hsts.startswith(f"max-age={production['SECURE_HSTS_SECONDS']}")
    assert "includeSubDomains" in hsts
    assert "preload" in hsts
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_plain_http_is_sent_to_https_except_the_health_probe(production, db):
    with _as_in_production(production):
        page = Client().get(reverse("account_login"))
        probe = Client().get(reverse("healthz"))
    assert page.status_code == 301
    assert page["Location"].startswith("https://")
    assert probe.status_code != 301


def test_signing_in_sets_secure_host_only_cookies(production, cast):
    client = Client()
    with _as_in_production(production):
        client.get(reverse("account_login"), secure=True)
        response = client.post(
            reverse("account_login"),
            {"login": cast.mentor.email, "password": PASSWORD},
            secure=True,
        )
    assert response.status_code == 302
    session = response.cookies[production["SESSION_COOKIE_NAME"]]
    assert session["secure"]
    assert session["httponly"]
    assert session["path"] == "/"
    assert not session["domain"]
    csrf = client.cookies[production["CSRF_COOKIE_NAME"]]
    assert csrf["secure"]
