"""Survey e-mails survive a worker killed mid-batch: real worker processes, the real broker.

Two Celery worker processes (two "beats" hand both the same batch) send 30 due
invitations through the file e-mail backend, so the test can read what each process
sent. Part way through the batch both are killed with SIGKILL. The claims a dead
worker held run out (the lease, here moved back in time rather than waited for), the
workers start again, beat runs again, and every person has had exactly one e-mail.

Locally the broker is the file broker `make run` uses and the database SQLite; in CI
they are Redis and PostgreSQL.

An e-mail the mail server accepted in the instant before its worker died, before the
send was marked sent, cannot be told apart from one that never went, and goes again
after the lease (see ``surveys.sending``). So the test kills the workers outside that
instant: it pauses them (SIGSTOP), and kills them only if no claimed, unmarked send
already has its message on disk; otherwise it lets them run on for a moment and looks
again.
"""

from __future__ import annotations

import datetime
import email
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from config.celery_app import app
from programmes.tokens import hash_token
from surveys import scheduling, tasks
from surveys.models import SurveyInvitation, SurveySend, SurveyToken

from .factories import (
    MenteeFactory,
    MentorFactory,
    OrganisationFactory,
    ProgrammeFactory,
    TrustFactory,
    UserFactory,
)
from .factories_matching import RelationshipFactory
from .test_survey_schedule import make_rule

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
SENDS = 30
SITE = "http://worker-test.example"
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


@pytest.fixture
def shared_database(tmp_path):
    """The URL of a database the worker processes open too.

    PostgreSQL's test database is shared as it is (the test commits its rows). SQLite's
    test database lives in this process's memory, so it is copied to a file that this
    test then uses as well, and put back afterwards.
    """
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings_dict["USER"] or "", safe="")
        password = quote(settings_dict["PASSWORD"] or "", safe="")
        credentials = f"{user}:{password}@" if password else f"{user}@"
        host = settings_dict["HOST"] or "127.0.0.1"
        port = settings_dict["PORT"] or 5432
        yield f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"
        return
    if not connection.is_in_memory_db():
        yield f"sqlite:///{settings_dict['NAME']}"
        return
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.close()
    memory_name, memory_connection = settings_dict["NAME"], connection.connection
    # Closing the in-memory connection would destroy the test database: keep it aside.
    connection.connection = None
    settings_dict["NAME"] = str(path)
    try:
        yield f"sqlite:///{path}"
    finally:
        connection.close()
        settings_dict["NAME"] = memory_name
        connection.connection = memory_connection


class Workers:
    """Celery worker processes on a queue of this test's own."""

    def __init__(self, database_url: str, mail_root: Path) -> None:
        self.queue = f"survey-worker-test-{uuid.uuid4().hex[:12]}"
        self.database_url = database_url
        self.mail_root = mail_root
        self.processes: list[subprocess.Popen] = []
        self.started = 0

    def start(self, count: int) -> None:
        for _ in range(count):
            self.started += 1
            name = f"survey{self.started}"
            environment = {
                key: value
                for key, value in os.environ.items()
                if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "CELERY_TASK_ALWAYS_EAGER"}
            }
            environment.update(
                DJANGO_SETTINGS_MODULE="config.settings.local",
                DJANGO_DEBUG="0",
                DATABASE_URL=self.database_url,
                VAR_DIR=str(settings.VAR_DIR),
                EMAIL_BACKEND="file",
                EMAIL_FILE_PATH=str(self.mail_root / name),
                SITE_URL=SITE,
                LOG_LEVEL="WARNING",
            )
            # The worker sends the tasks it fans out to this test's queue too.
            code = (
                "from config.celery_app import app\n"
                f"app.conf.task_default_queue = {self.queue!r}\n"
                "app.worker_main(['worker', '--pool=solo', '--loglevel=WARNING',"
                f" '--hostname={name}@%h', '--queues={self.queue}',"
                " '--without-gossip', '--without-mingle', '--without-heartbeat'])\n"
            )
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                    [sys.executable, "-c", code],
                    cwd=ROOT,
                    env=environment,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def beat(self) -> None:
        """What beat does every five minutes, onto this test's queue."""
        tasks.send_survey_emails.apply_async(queue=self.queue)

    def signal(self, number: int) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.kill(process.pid, number)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=10)
        self.processes = []

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes = []


def messages(mail_root: Path) -> list[email.message.Message]:
    """Every message the file backend wrote, in any worker's folder."""
    found = []
    for path in sorted(mail_root.glob("*/*.log")):
        for chunk in path.read_bytes().split(SEPARATOR):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk))
    return found


def unsent():
    return SurveySend.objects.with_scopes_disabled().filter(sent_at__isnull=True)


def mailed_but_unmarked(mail_root: Path) -> bool:
    """Is a claimed send not yet marked sent already on disk (the instant not to kill in)?"""
    in_flight = set(
        unsent().filter(claimed_at__isnull=False).values_list("invitation__email", flat=True)
    )
    return bool(in_flight & {m["To"] for m in messages(mail_root)})


def wait_for(condition, *, timeout: float, every: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


@pytest.fixture
def eager_off():
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = True


def due_invitations() -> list[SurveyInvitation]:
    organisation = OrganisationFactory(name="Worker Test Alliance", slug="worker-test")
    programme = ProgrammeFactory(organisation=organisation, name="Worker test programme")
    trust = TrustFactory(organisation=organisation)
    mentor = MentorFactory(programme=programme, user=UserFactory(), trust=trust)
    make_rule(programme, reminder_days=[], max_reminders=0)
    today = timezone.localdate()
    for number in range(SENDS):
        mentee = MenteeFactory(
            programme=programme, trust=trust, email=f"worker.mentee{number}@trust.test"
        )
        RelationshipFactory(mentee=mentee, mentor=mentor, started_on=today)
    with scope(organisation=organisation):
        made = scheduling.create_due_invitations(
            programme, today, now=timezone.now() - datetime.timedelta(minutes=1)
        )
    assert made == SENDS
    with scopes_disabled():
        return list(SurveyInvitation.objects.filter(programme=programme))


def kill_part_way_then_finish(
    workers: Workers,
    mail_root: Path,
    *,
    batch: int,
    processes: int,
    beats: int,
    finish_within: float,
) -> None:
    """Start ``processes`` workers and ``beats`` beat runs, kill the workers part way
    through the batch (paused outside the instant of a send), move the dead workers'
    claims past their lease, then start again and beat until everything is sent."""
    workers.start(processes)
    for _ in range(beats):
        workers.beat()
    assert wait_for(lambda: len(messages(mail_root)) >= 3, timeout=90), "nothing was sent"
    workers.signal(signal.SIGSTOP)
    for _ in range(500):
        if not mailed_but_unmarked(mail_root):
            break
        workers.signal(signal.SIGCONT)
        time.sleep(0.001)
        workers.signal(signal.SIGSTOP)
    else:
        pytest.fail("the workers were never paused outside the instant of a send")
    workers.kill()
    time.sleep(0.5)  # let the database finish what the dead workers had sent it
    left = unsent().count()
    assert 0 < left < batch, "the workers were not killed part way through the batch"

    # The dead workers' claims run out after the lease (15 minutes): move them back.
    unsent().filter(claimed_at__isnull=False).update(
        claimed_at=F("claimed_at") - datetime.timedelta(minutes=16)
    )
    workers.start(processes)
    deadline = time.monotonic() + finish_within
    while unsent().exists():
        assert time.monotonic() < deadline, f"{unsent().count()} e-mails were never sent"
        workers.beat()
        wait_for(lambda: not unsent().exists(), timeout=2, every=0.1)


def test_killing_the_workers_mid_batch_sends_every_email_exactly_once(
    shared_database, eager_off, tmp_path
):
    invitations = due_invitations()
    mail_root = tmp_path / "mail"
    workers = Workers(shared_database, mail_root)
    try:
        # Two beats at once: both workers take the same batch.
        kill_part_way_then_finish(
            workers, mail_root, batch=SENDS, processes=2, beats=2, finish_within=120
        )
    finally:
        workers.stop()

    sent = messages(mail_root)
    per_person = Counter(message["To"] for message in sent)
    assert per_person == Counter({invitation.email: 1 for invitation in invitations})
    with scopes_disabled():
        tokens = dict(SurveyToken.objects.values_list("token_hash", "invitation__email"))
    for message in sent:
        text = next(
            part.get_payload(decode=True).decode()
            for part in message.walk()
            if part.get_content_type() == "text/plain"
        )
        token = text.split(f"{SITE}/s/")[1].split("/")[0]
        assert tokens[hash_token(token)] == message["To"]
