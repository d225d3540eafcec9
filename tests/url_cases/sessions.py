"""The session log, session records and the mentor's revalidation evidence.

The home relationship is the cast's pair (see ``relationships``). For the log pages
its latest agreement, signed by both, shares the log with the lead nurse, so the
admin and the colleague lead nurse may read it too. Session records open only to
the pair: the record and the list name a record the mentor shared, so the mentee
may read them; changing any of it is the mentor's alone.
"""

import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from . import Case
from .relationships import relationship

PAIR = ("mentor", "mentee")
MENTOR = ("mentor",)
LOG_READERS = ("owner", "colleague", "mentor", "mentee")


def _relationship(cast, side):
    from mentoring.models import Relationship

    with scopes_disabled():
        return Relationship.objects.select_related("mentor", "programme").get(
            pk=relationship(cast, side)["pk"]
        )


def shared_log(cast, side):
    """The relationship, with a signed agreement that shares the log with managers."""
    from mentoring.models import Agreement

    pair = _relationship(cast, side)
    now = timezone.now()
    with scopes_disabled():
        Agreement.objects.get_or_create(
            relationship=pair,
            version=1,
            defaults={
                "goals": "Settle into the role",
                "meeting_frequency": "Monthly",
                "meeting_duration": "An hour",
                "evaluation_period": "12 months",
                "progress_recording": "The session log",
                "confidentiality": "Confidential between us",
                "shared_with_lead_nurse": True,
                "mentor_signed_name": "Mentor",
                "mentor_signed_at": now,
                "mentee_signed_name": "Mentee",
                "mentee_signed_at": now,
            },
        )
    return {"pk": pair.pk}


def log_entry(cast, side):
    from mentoring.models import SessionLog

    pair = _relationship(cast, side)
    with scopes_disabled():
        entry = pair.session_logs.first()
        if entry is None:
            entry = SessionLog.objects.create(
                programme=pair.programme,
                mentor=pair.mentor,
                held_on=timezone.localdate() - datetime.timedelta(days=7),
                duration_minutes=60,
                method=SessionLog.Method.VIDEO,
                summary="Talked through the first month in post.",
            )
            entry.relationships.add(pair)
    return {"pk": pair.pk, "log_pk": entry.pk}


def shared_record(cast, side):
    from mentoring.models import SessionRecord

    pair = _relationship(cast, side)
    with scopes_disabled():
        record, _ = SessionRecord.objects.get_or_create(
            relationship=pair,
            held_on=timezone.localdate() - datetime.timedelta(days=7),
            defaults={
                "duration_minutes": 60,
                "plan": "Review the first month.",
                "reflections": "A good start.",
                "shared_with_mentee": True,
            },
        )
    return {"pk": pair.pk, "record_pk": record.pk}


def record_list(cast, side):
    return {"pk": shared_record(cast, side)["pk"]}


CASES = {
    "mentoring:sessions_log": Case(LOG_READERS, shared_log),
    "mentoring:sessions_log_add": Case(MENTOR, relationship),
    "mentoring:sessions_log_edit": Case(MENTOR, log_entry),
    "mentoring:sessions_log_delete": Case(MENTOR, log_entry),
    "mentoring:sessions_record_list": Case(PAIR, record_list),
    "mentoring:sessions_record_add": Case(MENTOR, relationship),
    "mentoring:sessions_record_detail": Case(PAIR, shared_record),
    "mentoring:sessions_record_edit": Case(MENTOR, shared_record),
    "mentoring:sessions_record_delete": Case(MENTOR, shared_record),
    "mentoring:sessions_revalidation": Case(MENTOR),
}
