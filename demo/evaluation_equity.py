"""Demo equity monitoring answers for the Wessex pilot, and its first intake's closure.

The pilot's current mentees have answered the starter survey, but few have finished
mentoring, so an equity report of them alone would show "<8" almost everywhere. The
pilot's first intake (twelve mentees, two at each trust, mentored a year and closed
some months ago) answered both the starter and the closure survey, with a few logged
sessions each. Every starter response then gets answers to the optional questions
about the mentee, dealt so that each question has at least two groups of eight or
more, with a few who preferred not to say or left a question blank.

Idempotent: the first intake is found by e-mail address, its invitations by the
schedule's own key, and the answers are dealt the same way on every run. Every person
and answer is fictional.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django_scopes import scope

from mentoring.models import Mentee, Mentor, Relationship, SessionLog
from programmes.models import Programme
from surveys.models import SurveyResponse

from .surveys_responses import ProgrammeSurveys

FIRST_INTAKE = [
    ("Anwen Tremayne", "Breast cancer CNS"),
    ("Bola Adeyemi", "Lung cancer CNS"),
    ("Ciaran Hollis", "Urology cancer CNS"),
    ("Deepa Raman", "Colorectal cancer CNS"),
    ("Elin Morcombe", "Haematology CNS"),
    ("Fatima Osei", "Head and neck cancer CNS"),
    ("Gwen Larkspur", "Gynaecology cancer CNS"),
    ("Hamza Qureshi", "Upper GI cancer CNS"),
    ("Isla Penrose", "Skin cancer CNS"),
    ("Jonah Whitcombe", "Lung cancer CNS"),
    ("Kemi Balogun", "Breast cancer CNS"),
    ("Lior Castell", "Acute oncology CNS"),
]
SESSIONS_EACH = 3

# Each answer: how many of the pilot's starter responses give it, and how many of those
# people also answered the closure survey (so that each large group has eight pairs
# to compare). Whoever is left over after the last answer left the question blank.
DEALS = {
    "eq_age_band": [
        ("under_30", 9, 8),
        ("30_39", 10, 8),
        ("40_49", 4, 0),
        ("50_59", 3, 0),
        ("prefer_not_to_say", 1, 0),
    ],
    "eq_sex": [("female", 18, 8), ("male", 8, 8), ("prefer_not_to_say", 1, 0)],
    "eq_ethnic_group": [
        ("white", 13, 8),
        ("asian", 8, 8),
        ("black", 3, 0),
        ("mixed", 1, 0),
        ("other", 1, 0),
        ("prefer_not_to_say", 1, 0),
    ],
    "eq_disability": [("no", 16, 8), ("yes", 8, 8), ("prefer_not_to_say", 2, 0)],
    "eq_trained_outside_uk": [("no", 17, 8), ("yes", 8, 8), ("prefer_not_to_say", 2, 0)],
}


def seed_first_intake(programme: Programme) -> list[Relationship]:
    """The first intake's mentees, their closed relationships and logged sessions.

    Made before the relationships' papers and surveys are seeded, so that the first
    intake gets its checklist and its survey invitations like every other pair."""
    with scope(organisation=programme.organisation):
        mentors = _one_mentor_per_trust(programme)
        pairs = []
        for index, (name, role) in enumerate(FIRST_INTAKE if mentors else []):
            mentor = mentors[index % len(mentors)]
            relationship = _first_intake_pair(programme, mentor, index, name, role)
            _log_sessions(relationship)
            pairs.append(relationship)
        return pairs


def seed(programme: Programme) -> None:
    pairs = seed_first_intake(programme)
    with scope(organisation=programme.organisation):
        surveys = ProgrammeSurveys(programme)
        for relationship in pairs:
            starter = surveys.invitation("starter", relationship, relationship.started_on)
            surveys.answer_online(
                starter, relationship, lift=0, shared=False, channel=starter.channel
            )
            closure = surveys.invitation("closure", relationship, relationship.ended_on)
            surveys.answer_online(
                closure, relationship, lift=2, shared=False, channel=closure.channel
            )
        _deal_equity_answers(programme)


def _one_mentor_per_trust(programme: Programme) -> list[Mentor]:
    """Each trust's first mentor, in the order they joined."""
    by_trust: dict[int, Mentor] = {}
    for mentor in (
        programme.mentors.filter(trust__isnull=False).select_related("trust").order_by("pk")
    ):
        by_trust.setdefault(mentor.trust_id, mentor)
    return list(by_trust.values())


def _first_intake_pair(
    programme: Programme, mentor: Mentor, index: int, name: str, role: str
) -> Relationship:
    """A mentee of the first intake and their closed relationship with the trust's mentor."""
    today = timezone.localdate()
    identified = today - relativedelta(months=21) + datetime.timedelta(days=9 * index)
    started = identified + datetime.timedelta(days=14 + 3 * index)
    ended = started + relativedelta(months=programme.relationship_months or 12)
    mentee, _ = Mentee.objects.get_or_create(
        programme=programme,
        email=f"first.intake{index + 1}@wessex.example",
        defaults={
            "trust": mentor.trust,
            "full_name": name,
            "role_title": role,
            "appointed_on": identified - datetime.timedelta(days=40),
            "years_registered": 4 + index % 9,
            "band": "7",
            "identified_by": Mentee.IdentifiedBy.LEAD_NURSE,
            "status": Mentee.Status.CLOSED,
            "identified_at": timezone.make_aware(
                datetime.datetime.combine(identified, datetime.time(10, 0))
            ),
        },
    )
    relationship, _ = Relationship.objects.get_or_create(
        mentee=mentee,
        defaults={
            "programme": programme,
            "mentor": mentor,
            "stage": Relationship.Stage.CLOSED,
            "started_on": started,
            "planned_end_on": ended,
            "ended_on": min(ended, today),
            "closure_kind": Relationship.ClosureKind.GOALS_MET,
            "closure_reason": "Goals met at the end of the year.",
            "continuing_informally": index % 3 != 0,
        },
    )
    return relationship


def _log_sessions(relationship: Relationship) -> None:
    if relationship.session_logs.exists():
        return
    for number in range(SESSIONS_EACH):
        entry = SessionLog.objects.create(
            programme=relationship.programme,
            mentor=relationship.mentor,
            held_on=relationship.started_on + relativedelta(months=1 + 3 * number),
            duration_minutes=60,
            method=[SessionLog.Method.FACE_TO_FACE, SessionLog.Method.VIDEO][number % 2],
            summary="Reviewed progress against the goals in the agreement.",
            themes=["workload"],
        )
        entry.relationships.add(relationship)


def _deal_equity_answers(programme: Programme) -> None:
    """Give every starter response the same answers about the mentee on every run."""
    responses = list(
        programme.survey_responses.filter(wave="starter", submitted_at__isnull=False)
        .select_related("invitation")
        .order_by("invitation__email", "pk")
    )
    closed = set(
        programme.survey_responses.filter(wave="closure", submitted_at__isnull=False).values_list(
            "pseudonym", flat=True
        )
    )
    paired = [r for r in responses if r.pseudonym in closed]
    unpaired = [r for r in responses if r.pseudonym not in closed]
    for turn, (code, deal) in enumerate(DEALS.items()):
        # A different order for each question, so the groups mix across questions.
        queues = [_rotated(paired, 5 * turn), _rotated(unpaired, 3 * turn)]
        for response in responses:
            response.answers.pop(code, None)
        for value, people, of_whom_paired in deal:
            for number in range(people):
                first, second = queues if number < of_whom_paired else queues[::-1]
                queue = first or second
                if queue:
                    queue.pop(0).answers[code] = value
    for response in responses:
        SurveyResponse.objects.filter(pk=response.pk).update(answers=response.answers)


def _rotated(items: list, by: int) -> list:
    if not items:
        return []
    by %= len(items)
    return items[by:] + items[:by]
