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
from collections import Counter

import pytest
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
from ..test_survey_worker import Workers, kill_part_way_then_finish, messages

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
        kill_part_way_then_finish(
            workers, mail_root, batch=REMINDERS, processes=1, beats=1, finish_within=90
        )
    finally:
        workers.stop()

    sent = messages(mail_root)
    assert Counter(message["To"] for message in sent) == Counter(people)
    assert all(message["Subject"].startswith("Reminder: ") for message in sent)
