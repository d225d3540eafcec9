"""Survey e-mails go exactly once: claimed before sending, each with a new link, never
again once sent, again only after a dead worker's lease. Also the background jobs and
the e-mail backend chosen by environment variables."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.models import Mentee
from programmes.tokens import hash_token
from surveys import sending, tasks
from surveys.models import Instrument, SurveyInvitation, SurveySend, SurveyToken

from .factories import MenteeFactory, MentorFactory
from .test_survey_schedule import create, make_rule, pair

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2026, 3, 2)
NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 30))
LINK = re.compile(r"http://testserver-site/s/([A-Za-z0-9_-]{40,})/")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "http://testserver-site"


def send_due(organisation, now=NOW) -> int:
    with scope(organisation=organisation):
        return sending.send_due(now)


def one_invitation(cast, *, now=NOW, **rule_fields) -> SurveyInvitation:
    """A starter invitation for the cast's mentee, made at ``now``."""
    make_rule(cast.programme, **rule_fields)
    pair(cast, started_on=timezone.localdate(now))
    create(cast.programme, timezone.localdate(now), now=now)
    with scopes_disabled():
        return SurveyInvitation.objects.get(programme=cast.programme)


def sends_of(invitation) -> list[SurveySend]:
    with scopes_disabled():
        return list(SurveySend.objects.filter(invitation=invitation).order_by("number"))


def tokens_in(message) -> list[str]:
    return LINK.findall(message.body)


# --- Sending ---------------------------------------------------------------------------


def test_the_invitation_goes_with_a_new_personal_link_and_is_marked_sent(cast, mailoutbox):
    invitation = one_invitation(cast)
    assert send_due(cast.org) == 1
    [message] = mailoutbox
    assert message.to == [cast.mentee_record.email]
    assert message.subject.startswith("Your ") and "Home Legacy Mentoring" in message.subject
    assert "Dear Home Mentee," in message.body
    assert "Please answer by 30 March 2026." in message.body
    [token] = tokens_in(message)
    with scopes_disabled():
        stored = SurveyToken.objects.get(invitation=invitation)
    assert stored.token_hash == hash_token(token)
    assert stored.channel == SurveyToken.Channel.EMAIL
    assert token not in stored.token_hash
    html, kind = message.alternatives[0]
    assert kind == "text/html"
    assert f"http://testserver-site/s/{token}/" in html
    first, *reminders = sends_of(invitation)
    assert first.sent_at is not None and first.claimed_at == NOW
    assert [r.sent_at for r in reminders] == [None, None]


def test_each_reminder_carries_a_new_link_and_reminder_wording(cast, mailoutbox):
    invitation = one_invitation(cast)
    send_due(cast.org)
    assert send_due(cast.org, NOW + datetime.timedelta(days=6)) == 0
    assert send_due(cast.org, NOW + datetime.timedelta(days=7)) == 1
    assert send_due(cast.org, NOW + datetime.timedelta(days=14)) == 1
    second = mailoutbox[1]
    assert second.subject.startswith("Reminder: ")
    assert "This is a reminder" in second.body
    tokens = {tokens_in(m)[0] for m in mailoutbox}
    assert len(tokens) == 3
    with scopes_disabled():
        assert SurveyToken.objects.filter(invitation=invitation).count() == 3
    assert all(s.sent_at for s in sends_of(invitation))


def test_running_again_sends_nothing_twice(cast, mailoutbox):
    one_invitation(cast)
    assert send_due(cast.org) == 1
    assert send_due(cast.org) == 0
    assert send_due(cast.org, NOW + datetime.timedelta(hours=1)) == 0
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_runs_at_the_same_time_send_each_email_once(cast):
    make_rule(cast.programme)
    for _ in range(8):
        pair(cast, MenteeFactory(programme=cast.programme, trust=cast.trust))
    create(cast.programme, TODAY, now=NOW)
    mail.outbox = []
    barrier = threading.Barrier(4)
    sent: list[int] = []
    errors: list[BaseException] = []
    # SQLite lets one writer in at a time; there the runs take turns.
    turns = threading.Lock() if connection.vendor == "sqlite" else None

    def run() -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            if turns:
                turns.acquire()
            try:
                sent.append(send_due(cast.org))
            finally:
                if turns:
                    turns.release()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(sent) == 8
    assert sorted(m.to[0] for m in mail.outbox) == sorted({m.to[0] for m in mail.outbox}), (
        "an e-mail went twice"
    )
    assert len(mail.outbox) == 8


def test_a_claim_is_one_conditional_update_of_one_table(cast):
    invitation = one_invitation(cast)
    first = sends_of(invitation)[0]
    with CaptureQueriesContext(connection) as queries:
        assert sending.claim(first.pk, NOW) is True
        assert sending.claim(first.pk, NOW) is False
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2
    for sql in updates:
        assert "SELECT" not in sql.upper()
        assert '"claimed_at" IS NULL' in sql and '"sent_at" IS NULL' in sql


def test_a_send_claimed_by_a_live_worker_is_left_alone(cast, mailoutbox):
    invitation = one_invitation(cast)
    first = sends_of(invitation)[0]
    with scopes_disabled():
        SurveySend.objects.filter(pk=first.pk).update(
            claimed_at=NOW - datetime.timedelta(minutes=14)
        )
    assert send_due(cast.org) == 0
    assert mailoutbox == []


def test_a_send_claimed_by_a_worker_that_died_goes_once_after_the_lease(cast, mailoutbox):
    invitation = one_invitation(cast)
    first = sends_of(invitation)[0]
    with scopes_disabled():
        SurveySend.objects.filter(pk=first.pk).update(
            claimed_at=NOW - datetime.timedelta(minutes=16)
        )
    assert send_due(cast.org) == 1
    assert send_due(cast.org, NOW + datetime.timedelta(hours=2)) == 0
    assert len(mailoutbox) == 1


def test_a_sent_email_never_goes_again_whatever_its_claim(cast, mailoutbox):
    invitation = one_invitation(cast)
    send_due(cast.org)
    first = sends_of(invitation)[0]
    with scopes_disabled():
        SurveySend.objects.filter(pk=first.pk).update(claimed_at=None)
    assert send_due(cast.org, NOW + datetime.timedelta(hours=1)) == 0
    with scope(organisation=cast.org):
        assert sending.send_one(first.pk, NOW + datetime.timedelta(hours=1)) is False
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("state", ["completed", "expired"])
def test_answered_or_closed_surveys_get_no_more_emails(cast, mailoutbox, state):
    invitation = one_invitation(cast)
    with scopes_disabled():
        if state == "completed":
            SurveyInvitation.objects.filter(pk=invitation.pk).update(completed_at=NOW)
        else:
            SurveyInvitation.objects.filter(pk=invitation.pk).update(
                expires_on=TODAY - datetime.timedelta(days=1)
            )
    assert send_due(cast.org) == 0
    # Even one picked just before it was answered is not sent once claimed.
    with scope(organisation=cast.org):
        assert sending.send_one(sends_of(invitation)[0].pk, NOW) is False
    assert mailoutbox == []


class BrokenBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


def test_an_email_the_mail_server_refused_is_given_back_for_the_next_run(
    cast, settings, mailoutbox
):
    invitation = one_invitation(cast)
    settings.EMAIL_BACKEND = "tests.test_survey_sending.BrokenBackend"
    with pytest.raises(ConnectionRefusedError):
        send_due(cast.org)
    first = sends_of(invitation)[0]
    assert (first.claimed_at, first.sent_at) == (None, None)
    with scopes_disabled():
        assert not SurveyToken.objects.filter(invitation=invitation).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_due(cast.org) == 1
    assert len(mailoutbox) == 1


def test_the_task_retries_when_the_mail_server_is_down(cast, settings):
    from celery.exceptions import Retry

    invitation = one_invitation(cast, now=timezone.now())
    settings.EMAIL_BACKEND = "tests.test_survey_sending.BrokenBackend"
    with pytest.raises((Retry, ConnectionRefusedError)):
        tasks.send_organisation_survey_emails.apply(args=[cast.org.pk], throw=True).get()
    assert [s.sent_at for s in sends_of(invitation)] == [None, None, None]
    assert sends_of(invitation)[0].claimed_at is None


def test_mentors_and_line_managers_are_written_to_by_name(cast, mailoutbox):
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(
            line_manager_name="Lena Manager", line_manager_email="lena.manager@home.test"
        )
    make_rule(cast.programme, "mentor_interim", Instrument.Kind.MENTOR_INTERIM)
    make_rule(cast.programme, "line_manager", Instrument.Kind.LINE_MANAGER)
    pair(cast)
    create(cast.programme, TODAY, now=NOW)
    assert send_due(cast.org) == 2
    by_address = {m.to[0]: m for m in mailoutbox}
    mentor_mail = by_address[cast.mentor.email]
    assert f"Dear {cast.mentor.full_name}," in mentor_mail.body
    assert "reported without names" in mentor_mail.body
    manager_mail = by_address["lena.manager@home.test"]
    assert "Dear Lena Manager," in manager_mail.body
    assert "the mentoring of Home Mentee, whom you manage" in manager_mail.body


def test_the_link_opens_the_respondents_page(cast, client, mailoutbox):
    now = timezone.now()
    one_invitation(cast, now=now)
    send_due(cast.org, now)
    [token] = tokens_in(mailoutbox[0])
    assert sending.survey_link(token) == f"http://testserver-site/s/{token}/"
    response = client.get(f"/s/{token}/")
    assert response.status_code == 302
    assert token not in response["Location"]


def test_the_notify_backend_receives_the_subject_and_plain_text(cast, settings, mailoutbox):
    from django_gov_notify.utils import cast_to_notify_email_message

    settings.GOVUK_NOTIFY_PLAIN_EMAIL_TEMPLATE_ID = "2f2a0e4b-3a54-4e2e-9d1d-3a5f2e1c0b7d"
    invitation = one_invitation(cast)
    with scopes_disabled():
        send = SurveySend.objects.select_related(
            "invitation__programme__organisation",
            "invitation__version__instrument",
            "invitation__mentee",
        ).get(invitation=invitation, number=0)
    payload = cast_to_notify_email_message(sending.message_for(send, "t" * 43), False).message()
    assert payload["template_id"] == "2f2a0e4b-3a54-4e2e-9d1d-3a5f2e1c0b7d"
    assert payload["personalisation"]["subject"].startswith("Your ")
    assert "http://testserver-site/s/" + "t" * 43 + "/" in payload["personalisation"]["body"]


# --- Resending by hand ----------------------------------------------------------------------


def test_a_resend_waits_until_the_earlier_email_has_gone(cast):
    invitation = one_invitation(cast)
    with scope(organisation=cast.org), pytest.raises(sending.ResendRefused, match="waiting to go"):
        sending.resend(invitation, actor=cast.owner, now=NOW)
    send_due(cast.org)
    with scope(organisation=cast.org):
        send = sending.resend(invitation, actor=cast.owner, now=NOW)
    assert (send.number, send.due_at, send.sent_at) == (3, NOW, None)


# --- The jobs ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_beat_runs_make_each_invitation_once_and_send_each_email_once(cast):
    make_rule(cast.programme, "starter")
    make_rule(cast.other_programme, "starter")
    today = timezone.localdate()
    for _ in range(3):
        pair(cast, MenteeFactory(programme=cast.programme, trust=cast.trust), started_on=today)
    foreign_mentor = MentorFactory(programme=cast.other_programme, user=cast.other_admin)
    foreign = pair(cast, cast.foreign_mentee, started_on=today, mentor=foreign_mentor)
    mail.outbox = []
    assert tasks.create_invitations.delay().get() == 2
    assert tasks.create_invitations.delay().get() == 2
    assert tasks.send_survey_emails.delay().get() == 0
    with scopes_disabled():
        assert SurveyInvitation.objects.filter(programme=cast.programme).count() == 3
        assert SurveyInvitation.objects.filter(relationship=foreign).count() == 1
        assert SurveySend.objects.filter(number=0, sent_at__isnull=False).count() == 4
    assert len(mail.outbox) == 4
    assert len({m.to[0] for m in mail.outbox}) == 4


@pytest.mark.django_db(transaction=True)
def test_beat_runs_at_the_same_time_make_each_invitation_once(cast):
    make_rule(cast.programme, "starter")
    today = timezone.localdate()
    for _ in range(5):
        pair(cast, MenteeFactory(programme=cast.programme, trust=cast.trust), started_on=today)
    mail.outbox = []
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []
    turns = threading.Lock() if connection.vendor == "sqlite" else None

    def beat() -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            if turns:
                turns.acquire()
            try:
                tasks.create_invitations()
            finally:
                if turns:
                    turns.release()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with scopes_disabled():
        assert SurveyInvitation.objects.filter(programme=cast.programme).count() == 5
    assert len(mail.outbox) == 5
    assert len({m.to[0] for m in mail.outbox}) == 5


def test_draft_programmes_make_no_invitations(cast):
    from programmes.models import Programme

    make_rule(cast.programme)
    pair(cast, started_on=timezone.localdate())
    with scopes_disabled():
        Programme.objects.filter(pk=cast.programme.pk).update(status=Programme.Status.DRAFT)
    assert tasks.create_invitations.delay().get() == 0
    with scopes_disabled():
        assert not SurveyInvitation.objects.exists()


def test_the_beat_schedule_runs_both_jobs():
    from django.conf import settings

    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["surveys.tasks.send_survey_emails"] == datetime.timedelta(minutes=5)
    hourly = schedule["surveys.tasks.create_invitations"]
    assert hourly.hour == set(range(24)) and len(hourly.minute) == 1


# --- The e-mail backend, chosen by environment variables -------------------------------------

UNWANTED = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "EMAIL_BACKEND"}
NOTIFY_KEY = (
    "mentoring_live-"
    + "1c8b5b0e-8d65-4f0a-9a59-6a5c0f3f2f11-"
    + "6b7f4c34-3e0a-4d4b-9f0d-0a7d2c1e9b55"
)
TEMPLATE_ID = "2f2a0e4b-3a54-4e2e-9d1d-3a5f2e1c0b7d"
SHOW = "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_TIMEOUT)"


def start(settings_module: str, **overrides) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in UNWANTED}
    environment.update(overrides)
    environment["DJANGO_SETTINGS_MODULE"] = settings_module
    return subprocess.run(  # noqa: S603 - the test's own interpreter and manage.py
        [sys.executable, "manage.py", "shell", "-c", SHOW],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {"DJANGO_SECRET_KEY": "prod-" + "k3y" * 20}


@pytest.mark.parametrize(
    ("module", "variables", "backend"),
    [
        ("config.settings.local", {}, "django.core.mail.backends.console.EmailBackend"),
        (
            "config.settings.local",
            {"EMAIL_BACKEND": "smtp"},
            "django.core.mail.backends.smtp.EmailBackend",
        ),
        (
            "config.settings.local",
            {"EMAIL_BACKEND": "File"},
            "django.core.mail.backends.filebased.EmailBackend",
        ),
        (
            "config.settings.local",
            {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"},
            "django.core.mail.backends.smtp.EmailBackend",
        ),
        (
            "config.settings.local",
            {
                "EMAIL_BACKEND": "notify",
                "GOVUK_NOTIFY_API_KEY": NOTIFY_KEY,
                "GOVUK_NOTIFY_PLAIN_EMAIL_TEMPLATE_ID": TEMPLATE_ID,
            },
            "django_gov_notify.backends.NotifyEmailBackend",
        ),
        ("config.settings.production", PRODUCTION, "django.core.mail.backends.smtp.EmailBackend"),
        (
            "config.settings.production",
            PRODUCTION | {"EMAIL_BACKEND": "console"},
            "django.core.mail.backends.console.EmailBackend",
        ),
    ],
)
def test_the_email_backend_comes_from_the_environment(module, variables, backend):
    result = start(module, **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [backend, "30"]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"EMAIL_BACKEND": "notify"}, "GOVUK_NOTIFY_API_KEY"),
        ({"EMAIL_BACKEND": "notify", "GOVUK_NOTIFY_API_KEY": "not-a-key"}, "GOVUK_NOTIFY_API_KEY"),
        (
            {"EMAIL_BACKEND": "notify", "GOVUK_NOTIFY_API_KEY": NOTIFY_KEY},
            "GOVUK_NOTIFY_PLAIN_EMAIL_TEMPLATE_ID",
        ),
        ({"EMAIL_BACKEND": "pigeon"}, "EMAIL_BACKEND"),
        ({"EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT"),
    ],
)
def test_a_bad_email_setting_stops_start_up_naming_it(variables, named):
    result = start("config.settings.local", **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


@pytest.mark.parametrize("change", ["withdrawn", "rematched"])
def test_no_more_emails_go_after_a_withdrawal_or_a_rematch(cast, mailoutbox, change):
    from mentoring.models import Relationship

    invitation = one_invitation(cast)
    with scopes_disabled():
        if change == "withdrawn":
            Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=Mentee.Status.WITHDRAWN)
        else:
            Relationship.objects.filter(pk=invitation.relationship_id).update(
                stage=Relationship.Stage.REMATCHED
            )
    assert send_due(cast.org) == 0
    assert mailoutbox == []


def test_beat_leaves_organisations_alone_when_only_closed_surveys_are_unsent(cast):
    invitation = one_invitation(cast, now=timezone.now())
    assert tasks.send_survey_emails.delay().get() == 1
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=invitation.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
        SurveySend.objects.filter(invitation=invitation).update(
            sent_at=None, due_at=timezone.now() - datetime.timedelta(days=1)
        )
    assert tasks.send_survey_emails.delay().get() == 0
