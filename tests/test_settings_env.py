import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

ROOT = Path(__file__).resolve().parent.parent
# The browser tests allow the ORM beside Playwright's event loop; a real start-up does not.
UNWANTED = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def start(settings_module: str, **overrides) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in UNWANTED}
    environment.update(overrides)
    environment["DJANGO_SETTINGS_MODULE"] = settings_module
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "localhost:6379"),
        ("DJANGO_DEBUG", "perhaps"),
        ("SESSION_IDLE_SECONDS", "thirty"),
        ("EMAIL_PORT", "-3"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(variable, value):
    result = start("config.settings.local", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_the_defaults_give_a_working_local_demo():
    result = start("config.settings.local")
    assert result.returncode == 0, result.stderr


def test_production_refuses_demo_mode():
    result = start(
        "config.settings.production",
        DJANGO_SECRET_KEY="x" * 60,
        DEMO_MODE="1",
    )
    assert result.returncode != 0
    assert "DEMO_MODE" in result.stderr


def test_production_settings_pass_the_deploy_check():
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="prod-" + "k3y" * 20,
        DJANGO_ALLOWED_HOSTS="mentoring.example.nhs.uk",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_typed_helpers(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "12")
    assert env.env_int("SOME_NUMBER", 3) == 12
    monkeypatch.setenv("SOME_NUMBER", "twelve")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER"):
        env.env_int("SOME_NUMBER", 3)
    monkeypatch.setenv("SOME_FLAG", "Yes")
    assert env.env_bool("SOME_FLAG", False) is True
    monkeypatch.setenv("SOME_LIST", "a.example, b.example,")
    assert env.env_list("SOME_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("SOME_DB", "postgres://postgres@127.0.0.1:5432/mentoring")
    assert env.env_database("SOME_DB", "")["ENGINE"] == "django.db.backends.postgresql"


def test_time_of_day_helper_refuses_a_bad_time(monkeypatch):
    monkeypatch.setenv("SOME_TIME", "03:30")
    assert env.env_time("SOME_TIME", "02:00") == datetime.time(3, 30)
    monkeypatch.delenv("SOME_TIME")
    assert env.env_time("SOME_TIME", "02:00") == datetime.time(2, 0)
    for bad in ("25:00", "two o'clock", "02"):
        monkeypatch.setenv("SOME_TIME", bad)
        with pytest.raises(ImproperlyConfigured, match="SOME_TIME must be a time of day"):
            env.env_time("SOME_TIME", "02:00")
