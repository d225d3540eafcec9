"""Absolute links for e-mails, from the configured site address (never a request's Host)."""

from django.conf import settings


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path
