"""Turning a programme's rows into the engine's people, and asking the engine.

Everything that decides who may be paired lives here, so the lead nurse's
suggestions, the cohort draft, the mentee's browsing and the shortlists all use
the same rules: a mentor's places left (concurrent and yearly limits, and whether
they accept new mentees), the recorded exclusions, a mentor in the mentee's line
management, and the same person on both sides.

Queries are fixed in number, whatever the number of mentors: mentors with their
caseload (one), their criteria (one), the exclusions (one), the programme's
criteria (one), and the mentees' criteria or applications (one or two).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from matching import engine
from mentoring.models import Mentee, Mentor
from mentoring.services import Caseload, with_caseload
from programmes.models import Criterion, Programme

from ..models import Exclusion

NOT_ACCEPTING = "not accepting new mentees"
# The engine treats equal ids as the same person; mentor ids are moved clear of mentee
# ids (keeping their order) so that primary keys from two tables never collide.
MENTOR_ID_OFFSET = 10**12
LINE_MANAGEMENT = "line manager"
SAME_PERSON = "same person"


def places_left(mentor: Mentor) -> int:
    """Places a mentor annotated by ``with_caseload`` has now: both limits, and willingness."""
    if not mentor.accepting_new:
        return 0
    return max(
        0,
        min(
            mentor.max_concurrent - mentor.open_count,
            mentor.max_per_year - mentor.started_last_year,
        ),
    )


def programme_mentors(programme: Programme) -> QuerySet[Mentor]:
    """Every mentor of the programme, with caseload, person, trust and criteria loaded."""
    return (
        with_caseload(Mentor.objects.filter(programme=programme))
        .select_related("user", "trust", "programme")
        .prefetch_related(
            Prefetch("criteria_offered", queryset=Criterion.objects.only("pk", "code"))
        )
        .order_by("pk")
    )


def weights_of(programme: Programme) -> dict[str, float]:
    return {
        code: float(weight) for code, weight in programme.criteria.values_list("code", "weight")
    }


def options_for(programme: Programme) -> engine.Options:
    return engine.Options()


def _specialisms(text: str) -> frozenset[str]:
    return frozenset(s.strip().lower() for s in text.split(",") if s.strip())


def _trust_key(trust_id: int | None) -> str | None:
    return None if trust_id is None else f"trust-{trust_id}"


def mentor_key(mentor_pk: int) -> int:
    return MENTOR_ID_OFFSET + mentor_pk


def mentor_pk(key: int) -> int:
    return key - MENTOR_ID_OFFSET


def engine_mentor(mentor: Mentor) -> engine.Mentor:
    return engine.Mentor(
        id=mentor_key(mentor.pk),
        trust=_trust_key(mentor.trust_id),
        specialisms=_specialisms(mentor.specialisms),
        offered=frozenset(c.code for c in mentor.criteria_offered.all()),
        capacity=places_left(mentor),
        capacity_total=mentor.max_per_year,
    )


def load_mentees(mentees: QuerySet[Mentee]) -> list[Mentee]:
    """Mentees with what matching reads: criteria, source application, person."""
    return list(
        mentees.select_related("source_application", "user", "trust").prefetch_related(
            Prefetch(
                "criteria_wanted",
                queryset=Criterion.objects.only("pk", "code", "position").order_by(
                    "position", "pk"
                ),
            )
        )
    )


def wanted_codes(mentee: Mentee) -> tuple[str, ...]:
    """Criterion codes the mentee wants, most wanted first.

    An applicant ranked theirs; a mentee a lead nurse added has them in the
    programme's order.
    """
    application = mentee.source_application
    if application is not None and application.ranked_criteria:
        return tuple(application.ranked_criteria)
    return tuple(c.code for c in mentee.criteria_wanted.all())


def engine_mentee(mentee: Mentee) -> engine.Mentee:
    return engine.Mentee(
        id=mentee.pk,
        trust=_trust_key(mentee.trust_id),
        specialism=(mentee.specialism or "").strip().lower() or None,
        wanted=wanted_codes(mentee),
    )


def exclusions_for(mentees: Sequence[Mentee], mentors: Sequence[Mentor]) -> list[engine.Exclusion]:
    """Recorded exclusions, line management and the same person on both sides.

    ``mentees`` must come from :func:`load_mentees` and ``mentors`` from
    :func:`programme_mentors` (people loaded).
    """
    mentee_ids = [m.pk for m in mentees]
    result = [
        engine.Exclusion(mentee_id, mentor_key(mentor_id), Exclusion.Reason(reason).label.lower())
        for mentee_id, mentor_id, reason in Exclusion.objects.filter(
            mentee_id__in=mentee_ids
        ).values_list("mentee_id", "mentor_id", "reason")
    ]
    mentor_by_user: dict[int, list[int]] = {}
    mentor_by_email: dict[str, list[int]] = {}
    for mentor in mentors:
        mentor_by_user.setdefault(mentor.user_id, []).append(mentor_key(mentor.pk))
        mentor_by_email.setdefault(mentor.user.email.lower(), []).append(mentor_key(mentor.pk))
    for mentee in mentees:
        if mentee.user_id is not None:
            for mentor_id in mentor_by_user.get(mentee.user_id, ()):
                result.append(engine.Exclusion(mentee.pk, mentor_id, SAME_PERSON))
        for mentor_id in mentor_by_email.get(mentee.email.lower(), ()):
            result.append(engine.Exclusion(mentee.pk, mentor_id, SAME_PERSON))
        manager = (mentee.line_manager_email or "").strip().lower()
        for mentor_id in mentor_by_email.get(manager, ()) if manager else ():
            result.append(engine.Exclusion(mentee.pk, mentor_id, LINE_MANAGEMENT))
    return result


@dataclass(frozen=True)
class Ranked:
    """One mentor for one mentee, with what to show: score, reasons, caseload."""

    mentor: Mentor
    caseload: Caseload
    score: float | None = None
    reasons: tuple[str, ...] = ()
    cross_trust: bool = False
    unavailable: str = ""

    @property
    def available(self) -> bool:
        return not self.unavailable


@dataclass(frozen=True)
class MentorSuggestions:
    mentee: Mentee
    ranked: tuple[Ranked, ...]
    unavailable: tuple[Ranked, ...]
    warnings: tuple[str, ...]


def suggest(
    mentee: Mentee,
    *,
    mentors: Iterable[Mentor] | None = None,
    limit: int | None = None,
) -> MentorSuggestions:
    """Mentors of the mentee's programme ranked for them, and those who cannot be chosen.

    ``mentee`` should come from :func:`load_mentees`; ``mentors`` defaults to every
    mentor of the programme (:func:`programme_mentors`).
    """
    programme = mentee.programme
    mentors = list(programme_mentors(programme) if mentors is None else mentors)
    by_id = {mentor_key(m.pk): m for m in mentors}
    not_accepting = {mentor_key(m.pk) for m in mentors if not m.accepting_new}
    answer = engine.suggest_mentors(
        engine_mentee(mentee),
        [engine_mentor(m) for m in mentors],
        weights_of(programme),
        exclusions_for([mentee], mentors),
        options_for(programme),
        limit=limit,
    )
    ranked = tuple(
        Ranked(
            mentor=by_id[s.mentor_id],
            caseload=Caseload.of(by_id[s.mentor_id]),
            score=s.score,
            reasons=s.reasons,
            cross_trust=s.cross_trust,
        )
        for s in answer.ranked
    )
    unavailable = tuple(
        Ranked(
            mentor=by_id[u.mentor_id],
            caseload=Caseload.of(by_id[u.mentor_id]),
            unavailable=NOT_ACCEPTING
            if u.mentor_id in not_accepting and u.reason == engine.UnavailableReason.AT_CAPACITY
            else u.reason,
        )
        for u in answer.unavailable
    )
    return MentorSuggestions(mentee, ranked, unavailable, answer.warnings)


def cohort_assignment(
    programme: Programme, mentees: Sequence[Mentee], mentors: Sequence[Mentor]
) -> engine.Assignment:
    """The engine's optimal draft for these mentees and mentors (both loaded as above).

    Mentor ids in the answer are engine keys: turn them back with :func:`mentor_pk`.
    """
    return engine.match_cohort(
        [engine_mentee(m) for m in mentees],
        [engine_mentor(m) for m in mentors],
        weights_of(programme),
        exclusions_for(mentees, mentors),
        options_for(programme),
    )


def blocked_reason(mentee: Mentee, mentor: Mentor) -> str | None:
    """Why this pair may not be made now, or None. Both loaded as above."""
    key = mentor_key(mentor.pk)
    for exclusion in exclusions_for([mentee], [mentor]):
        if exclusion.mentor_id == key:
            return exclusion.reason
    if places_left(mentor) <= 0:
        return NOT_ACCEPTING if not mentor.accepting_new else "at capacity"
    return None
