"""Two beats running by mistake (docker-compose scaled, a second server started with
beat): still one e-mail per survey due, and one monthly export with one e-mail.

Two ``celery beat`` processes, each sending the survey e-mail job and the monthly
export job every second, feed two workers through a Redis of the test's own. Every
job runs many times over, at once; the rows the jobs claim keep each e-mail and each
export to one.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django_scopes import scopes_disabled

from evaluation.exports import previous_month
from evaluation.models import MonthlyExport
from programmes.models import Role
from surveys.models import SurveyInvitation, SurveySend

from ..factories import MembershipFactory, UserFactory
from ..test_survey_worker import due_invitations
from .processes import celery_beat, celery_worker, environment, mailed, stop_all, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SCHEDULE = {
    "send-survey-emails": "surveys.tasks.send_survey_emails",
    "build-monthly-exports": "evaluation.tasks.build_previous_month_exports",
}


@pytest.fixture
def two_beats(throwaway_redis, shared_database, tmp_path):
    """Two workers, then two beats, all on the same Redis and database."""
    env = environment(
        DATABASE_URL=shared_database,
        REDIS_URL=throwaway_redis.url,
        VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="file",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SITE_URL="http://two-beats.example",
    )
    started = []

    def start():
        for number in (1, 2):
            started.append(celery_worker(env, tmp_path / f"worker{number}.log", name=f"w{number}"))
        for number in (1, 2):
            started.append(
                celery_beat(
                    env,
                    tmp_path / f"beat{number}.log",
                    schedule=SCHEDULE,
                    state=tmp_path / f"beat{number}-schedule",
                )
            )
        return started

    try:
        yield start
    finally:
        stop_all(started)


def test_two_beats_at_once_send_each_email_once_and_build_one_export(two_beats, tmp_path):
    invitations = due_invitations()
    programme = invitations[0].programme
    admin = UserFactory(email="admin@worker-test.test")
    MembershipFactory(organisation=programme.organisation, user=admin, role=Role.ADMIN)
    mail_root = tmp_path / "mail"

    def survey_emails():
        return [m for m in mailed(mail_root) if not m["Subject"].startswith("Monthly export")]

    def export_emails():
        return [m for m in mailed(mail_root) if m["Subject"].startswith("Monthly export")]

    def finished():
        with scopes_disabled():
            unsent = SurveySend.objects.filter(sent_at__isnull=True).exists()
        return not unsent and len(export_emails()) >= 1

    processes = two_beats()
    assert wait_for(finished, timeout=90, every=0.25), "\n".join(p.tail(15) for p in processes)
    # Both beats go on firing every second: a few more rounds change nothing.
    wait_for(lambda: False, timeout=3)
    assert all(p.alive() for p in processes), "\n".join(p.tail(15) for p in processes)
    for beat in (p for p in processes if p.log.name.startswith("beat")):
        sent = beat.log.read_text()
        assert sent.count("Sending due task send-survey-emails") >= 3
        assert sent.count("Sending due task build-monthly-exports") >= 3

    assert Counter(m["To"] for m in survey_emails()) == Counter(i.email for i in invitations)
    assert [m["To"] for m in export_emails()] == [admin.email]
    with scopes_disabled():
        exports = list(MonthlyExport.objects.filter(programme=programme))
        assert SurveyInvitation.objects.filter(programme=programme).count() == len(invitations)
    assert [(e.month, e.status) for e in exports] == [
        (previous_month(), MonthlyExport.Status.READY)
    ]
