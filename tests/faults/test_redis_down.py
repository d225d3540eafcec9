"""Redis down: the pages still work, ``/healthz`` says the broker is down, and the jobs
asked for meanwhile are done once it is back.

gunicorn, a Celery worker and beat run against a Redis of the test's own (broker and
cache), which is stopped part way. While it is down a lead nurse assigns a mentor (the
pair are e-mailed by a task), an admin asks for a monthly export (built by a task), a
mentor opens their pages and a mentee answers a survey by link: every page answers at
once, and each task is kept for later (``config.celery_app``). Redis starts again;
the worker reconnects by itself, beat's sweep sends the kept tasks, and each e-mail
goes once.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from evaluation.models import MonthlyExport
from mentoring.models import Relationship

from ..conftest import PASSWORD
from ..test_monthly_export import this_month
from ..test_survey_respond import STARTER_PAGES, make_invitation
from .processes import (
    Visitor,
    WebServer,
    celery_beat,
    celery_worker,
    environment,
    mailed,
    stop_all,
    wait_for,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SITE = "http://redis-down.example"


def signed_in(base: str, user) -> Visitor:
    """A browser signed in as ``user``; a page that waited on Redis would time out."""
    client = Client()
    client.force_login(user)
    visitor = Visitor(base, timeout=10)
    visitor.cookies["sessionid"] = client.cookies["sessionid"].value
    return visitor


@pytest.fixture
def stack(throwaway_redis, shared_database, tmp_path):
    """The web server, a worker and beat (sending kept tasks every second), on Redis."""
    env = environment(
        DATABASE_URL=shared_database,
        REDIS_URL=throwaway_redis.url,
        VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="file",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SITE_URL=SITE,
    )
    started = []
    try:
        started.append(celery_worker(env, tmp_path / "worker.log", name="redis-down"))
        started.append(
            celery_beat(
                env,
                tmp_path / "beat.log",
                schedule={"send-kept-tasks": "config.celery_app.send_kept_tasks"},
                state=tmp_path / "beat-schedule",
            )
        )
        server = WebServer(env, tmp_path / "gunicorn.log")
        started.append(server)
        server.wait_ready()
        yield server, started[0], tmp_path
    finally:
        stop_all(started)


def kept(tmp_path) -> list[str]:
    """The tasks kept for the sweep, by name."""
    folder = tmp_path / "var" / "unpublished"
    return sorted(json.loads(path.read_text())["task"] for path in folder.glob("*.json"))


def test_with_redis_down_pages_work_and_jobs_asked_for_are_done_when_it_returns(
    cast, throwaway_redis, stack
):
    server, worker, tmp_path = stack
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_other_trust)
    lead = signed_in(server.base, cast.colleague)
    admin = signed_in(server.base, cast.owner)
    mentor = signed_in(server.base, cast.mentor)
    suggestions = reverse("matching:suggestions", args=["home", cast.mentee_record.pk])
    assign = reverse("matching:assign", args=["home", cast.mentee_record.pk])
    exports = reverse("evaluation:export_list", args=["home", cast.programme.pk])
    assert lead.get(suggestions).status == 200
    assert admin.get(exports).status == 200

    throwaway_redis.stop()

    health = Visitor(server.base).get("/healthz")
    assert health.status == 200
    assert '"broker": "down"' in health.body and '"status": "degraded"' in health.body

    # Signing in: the rate limits cannot count while Redis is away, so they let people in.
    # Hashed as the server's settings hash passwords (the tests' own hasher is faster).
    cast.evaluator.password = PBKDF2PasswordHasher().encode(PASSWORD, "faultssalt0123")
    cast.evaluator.save(update_fields=["password"])
    visitor = Visitor(server.base)
    assert visitor.get(reverse("account_login")).status == 200
    signing_in = visitor.post(
        reverse("account_login"), {"login": cast.evaluator.email, "password": PASSWORD}
    )
    assert signing_in.status == 302, signing_in

    # Pages of signed-in people, and a survey answered by link.
    assert mentor.get(reverse("programmes:home", args=["home"])).status == 200
    person = Visitor(server.base)
    assert person.get(reverse("survey_public:respond_token", args=[token])).status == 302
    assert person.get(reverse("survey_public:respond_page", args=[invitation.pk, 1])).status == 200
    for number, answers in enumerate(STARTER_PAGES, start=1):
        page = reverse("survey_public:respond_page", args=[invitation.pk, number])
        assert person.post(page, {**answers, "action": "continue"}).status == 302
    finish = reverse("survey_public:respond_finish", args=[invitation.pk])
    done = person.post(finish, {"share_with_mentor": "no", "action": "submit"})
    assert done.location == reverse("survey_public:respond_done", args=[invitation.pk])

    # Work for the worker: the answer comes at once, and the task is kept.
    assigned = lead.post(assign, {"mentor": cast.mentor_record.pk})
    assert assigned.status == 302, assigned
    requested = admin.post(exports, {"month": this_month().isoformat()})
    assert requested.status == 302, requested
    assert kept(tmp_path) == [
        "evaluation.tasks.build_monthly_export",
        "matching.tasks.send_match_emails",
    ]
    with scopes_disabled():
        relationship = Relationship.objects.get(mentee=cast.mentee_record)
        export = MonthlyExport.objects.get(programme=cast.programme)
    assert export.status == MonthlyExport.Status.QUEUED
    assert mailed(tmp_path / "mail") == []

    throwaway_redis.start()
    assert '"broker": "ok"' in Visitor(server.base).get("/healthz").body

    def export_done():
        export.refresh_from_db()
        return export.status == MonthlyExport.Status.READY

    def all_mailed():
        return len(mailed(tmp_path / "mail")) >= 3

    with scopes_disabled():
        assert wait_for(export_done, timeout=60, every=0.2), worker.tail()
    assert wait_for(all_mailed, timeout=30, every=0.2), worker.tail()
    assert kept(tmp_path) == []
    time.sleep(2)  # beat's sweep runs twice more: nothing goes again
    recipients = Counter(tuple(message["To"].split(", ")) for message in mailed(tmp_path / "mail"))
    assert recipients == Counter(
        {
            (cast.mentor.email,): 1,  # the new mentee's details
            (cast.mentee_record.email,): 1,  # their mentor's
            (cast.owner.email,): 1,  # the export is ready
        }
    )
    assert relationship.mentor_id == cast.mentor_record.pk
