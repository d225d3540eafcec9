"""PostgreSQL restarted under load: the app carries on without being restarted, and
nothing is left half-written.

A cluster of the test's own (never the machine's) is migrated and served by gunicorn
with two sync workers holding persistent, health-checked connections
(``DATABASE_CONN_MAX_AGE=60``). Three people answer surveys by link and a mentor logs
sessions, all at once; part way through, the cluster is restarted (``pg_ctl restart
-m fast``, which cuts every open connection). A request caught by the restart may
fail, and its person tries again, as people do. Every request sent after the cluster
is back succeeds, from the same server processes, and in the database every survey
response is either submitted whole or still in progress, and every session log has
its relationship, its action and its audit event.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from ..test_sessions import session_data
from ..test_survey_respond import STARTER_PAGES
from .processes import ThrowawayPostgres, Visitor, WebServer, environment, run_django, wait_for
from .scenario import SLUG

pytestmark = pytest.mark.services

SURVEYS = 12
PEOPLE = 3
RESTART_AFTER = 4  # surveys submitted before the restart
LOGS_AFTER_RESTART = 5
DEADLINE = 90  # seconds for all the traffic


@pytest.fixture
def cluster():
    postgres = ThrowawayPostgres()
    try:
        postgres.start()
        postgres.create_database("faults")
        yield postgres
    finally:
        postgres.stop()


@pytest.fixture
def served(cluster, tmp_path):
    """gunicorn serving the database, made and filled while the server starts."""
    env = environment(
        DATABASE_URL=cluster.url("faults"),
        DATABASE_CONN_MAX_AGE="60",
        VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="file",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )
    server = WebServer(env, tmp_path / "gunicorn.log")
    try:
        # The tables come straight from the models, as pytest-django's --nomigrations
        # makes them: the same schema in a quarter of the time (the one data migration
        # only mends rows an empty database does not have).
        output = run_django(
            "from django.apps import apps\n"
            "from django.conf import settings\n"
            "from django.core.management import call_command\n"
            "settings.MIGRATION_MODULES = {a.label: None for a in apps.get_app_configs()}\n"
            "call_command('migrate', run_syncdb=True, verbosity=0, interactive=False)\n"
            "call_command('createcachetable', verbosity=0)\n"
            "from tests.faults.scenario import build\n"
            f"build({SURVEYS})\n",
            env=env,
        )
        server.wait_ready()
        yield server, json.loads(output.strip().splitlines()[-1]), env
    finally:
        server.stop()


@dataclass
class Traffic:
    """Every request sent, with when it started and ended, and its status."""

    requests: list[tuple[float, float, str, int]] = field(default_factory=list)
    submitted: int = 0
    logged: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)

    def send(self, name: str, call, expected: int, deadline: float):
        """Send until the expected status comes back, as a person presses again."""
        while time.monotonic() < deadline:
            started = time.monotonic()
            reply = call()
            with self.lock:
                self.requests.append((started, time.monotonic(), name, reply.status))
            if reply.status == expected:
                return reply
            time.sleep(0.1)
        raise AssertionError(f"{name} never answered {expected}")


def answer_survey(traffic: Traffic, base: str, link: dict, deadline: float) -> None:
    person = Visitor(base)
    pk = link["invitation"]
    traffic.send(
        "open link",
        lambda: person.get(reverse("survey_public:respond_token", args=[link["token"]])),
        302,
        deadline,
    )
    first = reverse("survey_public:respond_page", args=[pk, 1])
    traffic.send("survey page", lambda: person.get(first), 200, deadline)
    for number, answers in enumerate(STARTER_PAGES, start=1):
        page = reverse("survey_public:respond_page", args=[pk, number])
        data = {**answers, "action": "continue"}
        traffic.send("answer page", lambda p=page, d=data: person.post(p, d), 302, deadline)
    finish = reverse("survey_public:respond_finish", args=[pk])
    reply = traffic.send(
        "submit",
        lambda: person.post(finish, {"share_with_mentor": "no", "action": "submit"}),
        302,
        deadline,
    )
    assert reply.location == reverse("survey_public:respond_done", args=[pk]), reply
    with traffic.lock:
        traffic.submitted += 1


def test_restarting_postgresql_under_load_loses_nothing_and_needs_no_app_restart(cluster, served):
    server, data, env = served
    workers = server.worker_pids()
    traffic = Traffic()
    links: queue.Queue = queue.Queue()
    for link in data["links"]:
        links.put(link)
    deadline = time.monotonic() + DEADLINE
    restarted = threading.Event()
    surveys_done = threading.Event()
    logs_after_restart = []

    def survey_person():
        try:
            while True:
                try:
                    link = links.get_nowait()
                except queue.Empty:
                    return
                answer_survey(traffic, server.base, link, deadline)
        except Exception as error:  # reported below
            traffic.errors.append(repr(error))

    def mentor():
        try:
            me = Visitor(server.base)
            me.cookies["sessionid"] = data["session"]
            add = reverse("mentoring:sessions_log_add", args=[SLUG, data["relationship"]])
            traffic.send("log form", lambda: me.get(add), 200, deadline)
            while not (surveys_done.is_set() and len(logs_after_restart) >= LOGS_AFTER_RESTART):
                assert time.monotonic() < deadline, "the mentor's logs never got through"
                started = time.monotonic()
                traffic.send("log session", lambda: me.post(add, session_data()), 302, deadline)
                with traffic.lock:
                    traffic.logged += 1
                if restarted.is_set():
                    logs_after_restart.append(started)
        except Exception as error:  # reported below
            traffic.errors.append(repr(error))

    people = [threading.Thread(target=survey_person) for _ in range(PEOPLE)]
    logger = threading.Thread(target=mentor)
    for thread in [*people, logger]:
        thread.start()
    try:
        started = wait_for(
            lambda: traffic.submitted >= RESTART_AFTER, timeout=deadline - time.monotonic()
        )
        assert started, traffic.errors
        restart_began = time.monotonic()
        cluster.restart()
        restart_ended = time.monotonic()
        restarted.set()
    finally:
        for thread in people:
            thread.join(timeout=max(1, deadline - time.monotonic()))
        surveys_done.set()
        logger.join(timeout=max(1, deadline - time.monotonic()))

    assert traffic.errors == []
    assert traffic.submitted == SURVEYS
    assert len(logs_after_restart) >= LOGS_AFTER_RESTART
    before = [r for r in traffic.requests if r[1] < restart_began]
    after = [r for r in traffic.requests if r[0] > restart_ended]
    caught = [r for r in traffic.requests if r[0] <= restart_ended and r[1] >= restart_began]
    assert before and after, "the restart did not come part way through the traffic"
    # What the restart caught may have failed, and was sent again: 500, or 400 when it
    # was the session that could not be saved (Django's SessionInterrupted). Nothing
    # sent after it failed.
    failed = [r for r in caught if r[3] not in {200, 302}]
    assert {status for *_, status in failed} <= {400, 500, 503}, failed
    assert [r for r in after if r[3] not in {200, 302}] == [], f"{len(failed)} failed in it"
    # The same server processes served it all: nothing was restarted but the database.
    assert server.alive()
    assert server.worker_pids() == workers

    found = json.loads(
        run_django(
            "from tests.faults.scenario import consistency\nconsistency()\n", env=env
        ).strip()
    )
    assert found["problems"] == []
    assert found["submitted"] == SURVEYS
    assert found["in_progress"] == 0
    failed_logs = sum(
        1 for *_, name, status in traffic.requests if name == "log session" and status != 302
    )
    assert traffic.logged <= found["session_logs"] <= traffic.logged + failed_logs
