"""Demo session logs and session records for a programme's relationships.

Every relationship past setting up has sessions every two to five weeks since it
started (30 to 90 minutes, mixed methods, themes and actions); one mentor ran a
group session for two of their mentees; a few relationships have session records,
some shared with the mentee; and one relationship has had no session for 60 days, so
it shows as needing attention. All fictional, with nothing that identifies a patient.

Idempotent: each entry's natural key is the relationship and the date, and the
rhythm of each relationship is drawn from a generator seeded by the mentee's e-mail,
so running it again on the same day adds nothing.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone
from django_scopes import scope

from mentoring.models import THEMES, Relationship, SessionAction, SessionLog, SessionRecord
from programmes.models import Programme

WITH_SESSIONS = (
    Relationship.Stage.GETTING_STARTED,
    Relationship.Stage.NAVIGATING,
    Relationship.Stage.CONSOLIDATING,
    Relationship.Stage.PARTING_WAYS,
    Relationship.Stage.CLOSED,
)
QUIET_DAYS = 61
Method = SessionLog.Method
METHODS = [
    Method.FACE_TO_FACE,
    Method.FACE_TO_FACE,
    Method.VIDEO,
    Method.VIDEO,
    Method.PHONE,
    Method.EMAIL,
]
DURATIONS = [30, 45, 60, 60, 75, 90]
THEME_CODES = [code for code, _ in THEMES]

SUMMARIES = [
    "Getting to know each other: career so far, what the mentee hopes to get from "
    "mentoring, and how we will work together. Agreed to meet about monthly.",
    "Progress since last time on the clinic workload. Talked through ways to protect "
    "time for telephone follow-ups and how to say no to extra tasks.",
    "Preparing for MDT meetings: what to bring, when to speak, and how to summarise "
    "holistic needs. Mentee will observe how a senior CNS presents.",
    "Reflected on a difficult conversation the mentee led. Used a simple structure "
    "to look at what went well and what they would do differently.",
    "Development needs within the scope of the role: mapped current skills against "
    "the ACCEND framework and chose two areas to focus on.",
    "Wellbeing check-in after a busy month. Discussed boundaries, breaks and where to "
    "find support; shared the trust's staff wellbeing offer.",
    "The value of clinical supervision: how to find a supervisor and make the most of "
    "sessions. Mentee will ask their line manager about protected time.",
    "Reviewed the actions from last time. Good progress on the nurse-led clinic "
    "proposal; talked about who to involve and how to present it.",
    "Advice on building a network: regional CNS forums, the alliance's education "
    "opportunities and a professional nurse advocate.",
    "Questions about the new role's responsibilities in the pathway. Shared a timeline "
    "tool for tracking patients' key dates without patient details.",
]
GROUP_SUMMARY = (
    "Group session for newly appointed CNSs: sharing experiences of the first months in "
    "post, managing workload across sites, and peer support. Agreed to meet as a group "
    "every quarter."
)
ACTIONS = [
    ("Shadow a senior CNS at the MDT meeting", "Mentee"),
    ("Send the link to the regional CNS forum", "Mentor"),
    ("Book a meeting with the line manager about protected time", "Mentee"),
    ("Read the ACCEND framework section on clinical practice", "Mentee"),
    ("Share the template for the nurse-led clinic proposal", "Mentor"),
    ("Try the prioritisation grid for a week and bring notes", "Mentee"),
    ("Contact the professional nurse advocate team", "Mentee"),
    ("Find two study days on communication skills", "Both"),
]
RECORDS = [
    {
        "plan": "Follow up the workload actions; look at the MDT preparation together.",
        "discussion": "Mentee is more confident in MDT meetings but still finds the clinic "
        "list overwhelming on Mondays. We looked at what could move to other days.",
        "actions_outcomes": "Mentee to try moving telephone follow-ups to Tuesday; review "
        "next session.",
        "reflections": "I noticed I offered solutions quickly. Next time I will ask more "
        "open questions and let the mentee find their own options first.",
    },
    {
        "plan": "Check in on wellbeing after a hard month; revisit development goals.",
        "discussion": "Talked about tiredness and boundaries. Mentee has started taking a "
        "proper lunch break twice a week.",
        "actions_outcomes": "Signposted the staff wellbeing hub and the PNA service.",
        "reflections": "A reminder that pastoral support is as much a part of the role as "
        "clinical advice. I used Gibbs' cycle to think about how I responded.",
    },
]


def _rhythm(relationship: Relationship, until: datetime.date) -> list[datetime.date]:
    """Session dates: first a week or so after the start, then every two to five weeks."""
    draw = random.Random(relationship.mentee.email)  # noqa: S311 - repeatable demo data
    day = relationship.started_on + datetime.timedelta(days=draw.randint(5, 10))
    dates = []
    while day <= until:
        dates.append(day)
        day += datetime.timedelta(days=draw.randint(14, 35))
    return dates


def _log(relationship: Relationship, day: datetime.date, draw: random.Random) -> None:
    if relationship.session_logs.filter(held_on=day).exists():
        return
    method = draw.choice(METHODS)
    minutes = 30 if method == Method.EMAIL else draw.choice(DURATIONS)
    entry = SessionLog.objects.create(
        programme=relationship.programme,
        mentor=relationship.mentor,
        held_on=day,
        duration_minutes=minutes,
        method=method,
        summary=draw.choice(SUMMARIES),
        themes=sorted(draw.sample(THEME_CODES, draw.randint(1, 3)), key=THEME_CODES.index),
        created_by=relationship.mentor.user,
    )
    entry.relationships.add(relationship)
    today = timezone.localdate()
    for what, who in draw.sample(ACTIONS, draw.randint(0, 2)):
        due = day + datetime.timedelta(days=draw.randint(14, 28))
        SessionAction.objects.create(log=entry, what=what, who=who, due_on=due, done=due < today)


def _group_session(first: Relationship, second: Relationship, day: datetime.date) -> None:
    exists = (
        first.session_logs.filter(method=Method.GROUP, held_on=day)
        .filter(relationships=second)
        .exists()
    )
    if exists:
        return
    entry = SessionLog.objects.create(
        programme=first.programme,
        mentor=first.mentor,
        held_on=day,
        duration_minutes=90,
        method=Method.GROUP,
        summary=GROUP_SUMMARY,
        themes=["cns_role", "workload", "wellbeing"],
        created_by=first.mentor.user,
    )
    entry.relationships.add(first, second)
    SessionAction.objects.create(
        log=entry, what="Set a date for the next group session", who="Mentor", due_on=day
    )


def _record(relationship: Relationship, number: int) -> None:
    """A session record of the pair's second session; every other one is shared."""
    logs = list(
        relationship.session_logs.exclude(method=Method.GROUP).order_by("held_on", "pk")[:2]
    )
    if len(logs) < 2:
        return
    entry = logs[1]
    SessionRecord.objects.get_or_create(
        relationship=relationship,
        held_on=entry.held_on,
        defaults={
            "log": entry,
            "duration_minutes": entry.duration_minutes,
            "shared_with_mentee": number % 2 == 0,
            **RECORDS[number % len(RECORDS)],
        },
    )


def seed(programme: Programme) -> None:
    """Add session logs and records to the programme's relationships (safe to run twice)."""
    with scope(organisation=programme.organisation):
        today = timezone.localdate()
        relationships = list(
            Relationship.objects.filter(programme=programme, stage__in=WITH_SESSIONS)
            .select_related("mentee", "mentor__user", "programme")
            .order_by("mentor_id", "mentee__email")
        )
        # One open relationship goes quiet: its last session was over 60 days ago.
        quiet = next(
            (
                r
                for r in sorted(relationships, key=lambda r: (r.started_on, r.mentee.email))
                if r.is_open and r.started_on <= today - datetime.timedelta(days=QUIET_DAYS + 30)
            ),
            None,
        )
        for relationship in relationships:
            if relationship is quiet:
                until = today - datetime.timedelta(days=QUIET_DAYS)
            elif relationship.ended_on:
                until = relationship.ended_on
            else:
                until = today - datetime.timedelta(days=1)
            draw = random.Random(f"{relationship.mentee.email} sessions")  # noqa: S311
            for day in _rhythm(relationship, until):
                _log(relationship, day, draw)

        # A group session for two of one mentor's open relationships.
        by_mentor: dict[int, list[Relationship]] = {}
        for relationship in relationships:
            if relationship.is_open and relationship is not quiet:
                by_mentor.setdefault(relationship.mentor_id, []).append(relationship)
        pairs = [group[:2] for group in by_mentor.values() if len(group) >= 2]
        if pairs:
            first, second = pairs[0]
            _group_session(first, second, today - datetime.timedelta(days=12))

        # A few session records: each mentor's first relationship with two sessions.
        seen_mentors: set[int] = set()
        number = 0
        for relationship in relationships:
            if relationship.mentor_id in seen_mentors:
                continue
            if relationship.session_logs.count() >= 2:
                _record(relationship, number)
                seen_mentors.add(relationship.mentor_id)
                number += 1
