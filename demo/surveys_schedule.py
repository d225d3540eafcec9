"""Demo survey schedule: the standard waves for a programme, and the invitations its
relationships have had so far, in every state an invitation passes through.

Each wave already due for a relationship gets its invitation as it would have been
made on its due day. E-mails whose time has passed are recorded as sent on their day
(so the demo's worker does not send them now); later reminders wait for their day.
Some people have opened their survey. Invitations older than their days to answer
have expired; those still open after every reminder are overdue. Completing surveys
is left to the responses, which mark their invitations completed. Idempotent, and
dated relative to today.
"""

from __future__ import annotations

import datetime

from django.db.models import F
from django.utils import timezone

from programmes.models import Programme
from surveys import scheduling
from surveys.models import SurveyInvitation, SurveySend

# About every third invitation has been opened, two days after it went out.
OPENED_EVERY = 3
OPENED_AFTER = datetime.timedelta(days=2)


def _sent_on_the_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


def seed(programme: Programme) -> int:
    """Add the standard schedule and the invitations due so far; return how many were made."""
    scheduling.add_standard_schedule(programme)
    now = timezone.now()
    today = timezone.localdate(now)
    rules = list(programme.schedule_rules.filter(active=True).order_by("pk"))
    for rule in rules:
        rule.programme = programme
    versions = scheduling.latest_versions({rule.instrument_id for rule in rules})
    anchors = scheduling.Anchors.of(programme)
    existing = set(programme.survey_invitations.values_list("key", flat=True))
    made = 0
    for relationship in scheduling.surveyed_relationships(programme):
        for rule in rules:
            anchor = scheduling.anchor_date(rule, relationship, anchors)
            version = versions.get(rule.instrument_id)
            if anchor is None or version is None:
                continue
            due = scheduling.due_on(rule, anchor)
            if due > today:
                continue
            for person in scheduling.people_for(rule, relationship):
                if scheduling.invitation_key(rule, person, relationship) in existing:
                    continue
                went_out = _sent_on_the_day(due)
                if scheduling.invite(rule, version, relationship, person, due, now=went_out):
                    made += 1
    # What has happened since: each e-mail whose time has come went on its day.
    SurveySend.objects.filter(
        invitation__programme=programme, sent_at__isnull=True, due_at__lte=now
    ).update(sent_at=F("due_at"), claimed_at=F("due_at"))
    opened = SurveyInvitation.objects.filter(
        programme=programme, opened_at__isnull=True, due_on__lte=today - OPENED_AFTER
    )
    for pk, due in opened.values_list("pk", "due_on"):
        if pk % OPENED_EVERY == 0:
            SurveyInvitation.objects.filter(pk=pk).update(
                opened_at=_sent_on_the_day(due + OPENED_AFTER)
            )
    return made
