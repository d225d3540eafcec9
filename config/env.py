"""Typed reads of the environment.

Every setting that comes from the environment goes through one of these helpers so
that a malformed value stops start-up with a message naming the variable, instead
of surfacing later as a confusing error deep inside Django or Celery.
"""

from __future__ import annotations

import datetime
import os

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    """A database URL (postgres://user@host:port/name or sqlite:///path)."""
    url = env_str(name, default)
    if "://" not in url:
        raise ImproperlyConfigured(
            f"{name} must be a database URL such as postgres://user@host:5432/db; got {url!r}."
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # environ raises several types for bad URLs
        raise ImproperlyConfigured(f"{name} is not a usable database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if not engine or engine.endswith(".dummy"):
        raise ImproperlyConfigured(f"{name} names an unknown database scheme; got {url!r}.")
    return config


def env_redis_url(name: str) -> str | None:
    url = env_str(name, "")
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"{name} must start with redis://, rediss:// or unix://; got {url!r}."
        )
    return url


def env_time(name: str, default: str) -> datetime.time:
    """A time of day as HH:MM (24-hour), e.g. 02:00."""
    value = env_str(name, default)
    try:
        hour, minute = (int(part) for part in value.split(":"))
        return datetime.time(hour, minute)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a time of day as HH:MM, such as 02:00; got {value!r}."
        ) from None
