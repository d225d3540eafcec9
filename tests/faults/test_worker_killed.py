"""A worker killed part way through a batch of reminders, and started again: every
reminder goes exactly once, and no first e-mail goes again.

``tests/test_survey_worker.py`` kills two workers sharing a batch of first e-mails.
This is the other common case: the one worker dies while the five-minute job is
sending the reminders of many people whose invitations went a week ago, and a new
worker takes over after the dead one's claims run out. Counted from what the file
e-mail backend wrote.
"""

from __future__ import annotations

import datetime
import signal
import time
from collections import Counter

import pytest
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from surveys import scheduling
from surveys.models import SurveySend

from ..factories import (
    MenteeFactory,
    MentorFactory,
    OrganisationFactory,
    ProgrammeFactory,
    TrustFactory,
    UserFactory,
)
from ..factories_matching import RelationshipFactory
from ..test_survey_schedule import make_rule
from ..test_survey_worker import Workers, mailed_but_unmarked, messages, unsent, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REMINDERS = 30


def reminders_due() -> list[str]:
    """People whose invitation went eight days ago and whose one reminder is now due."""
    organisation = OrganisationFactory(name="Reminder Test Alliance", slug="reminder-test")
    programme = ProgrammeFactory(organisation=organisation, name="Reminder test programme")
    trust = TrustFactory(organisation=organisation)
    mentor = MentorFactory(programme=programme, user=UserFactory(), trust=trust)
    make_rule(programme, reminder_days=[7], max_reminders=1)
    week_ago = timezone.localdate() - datetime.timedelta(days=8)
    for number in range(REMINDERS):
        mentee = MenteeFactory(
            programme=programme, trust=trust, email=f"reminded.mentee{number}@trust.test"
        )
        RelationshipFactory(mentee=mentee, mentor=mentor, started_on=week_ago)
    with scope(organisation=organisation):
        assert scheduling.create_due_invitations(programme, timezone.localdate()) == REMINDERS
    sent_then = timezone.now() - datetime.timedelta(days=8)
    with scopes_disabled():
        sends = SurveySend.objects.filter(invitation__programme=programme)
        sends.filter(number=0).update(sent_at=sent_then, claimed_at=sent_then)
        sends.filter(number=1).update(due_at=timezone.now() - datetime.timedelta(minutes=1))
        assert sends.filter(number=1, sent_at__isnull=True).count() == REMINDERS
        return list(sends.filter(number=1).values_list("invitation__email", flat=True))


def test_a_worker_killed_mid_batch_of_reminders_and_restarted_sends_each_once(
    shared_database, eager_off, tmp_path
):
    people = reminders_due()
    mail_root = tmp_path / "mail"
    workers = Workers(shared_database, mail_root)
    try:
        workers.start(1)
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
            pytest.fail("the worker was never paused outside the instant of a send")
        workers.kill()
        time.sleep(0.5)  # let the database finish what the dead worker had sent it
        left = unsent().count()
        assert 0 < left < REMINDERS, "the worker was not killed part way through the batch"

        # The dead worker's claims run out after the lease (15 minutes): move them back.
        unsent().filter(claimed_at__isnull=False).update(
            claimed_at=F("claimed_at") - datetime.timedelta(minutes=16)
        )
        workers.start(1)
        deadline = time.monotonic() + 90
        while unsent().exists():
            assert time.monotonic() < deadline, f"{unsent().count()} reminders were never sent"
            workers.beat()
            wait_for(lambda: not unsent().exists(), timeout=2, every=0.1)
    finally:
        workers.stop()

    sent = messages(mail_root)
    assert Counter(message["To"] for message in sent) == Counter(people)
    assert all(message["Subject"].startswith("Reminder: ") for message in sent)
