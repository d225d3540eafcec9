"""Live indicators a logic model's outputs and outcomes can be bound to.

Each indicator is computed from the programme's own records and survey answers when
the page is read, so the logic model always shows where the programme stands. The
:class:`Facts` of a programme load each kind of figure once, in a fixed number of
queries, however many entries use it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Count, Q, Sum
from django.utils import timezone

from mentoring.models import Agreement, Mentee, Relationship, SelfAssessment
from programmes.models import Programme
from surveys.models import Audience

from .reports import cohort, dashboard, outcomes
from .statistics import wilson
from .suppression import SUPPRESSED, THRESHOLD

CLOSURE = next(wave for wave in outcomes.FOLLOW_UPS if wave[0] == "closure")


@dataclass(frozen=True)
class Value:
    """An indicator's current value: ``shown`` as the page prints it, ``number`` for the
    workbook (None when there is none to give or it is suppressed)."""

    shown: str
    number: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    compute: Callable[[Facts], Value]
    # How the value reads against a target, if the entry sets one.
    unit: str = ""


def _count(n: int, detail: str = "") -> Value:
    return Value(f"{n:,}", n, detail)


def _percent(numerator: int, denominator: int, what: str) -> Value:
    if not denominator:
        return Value("No data yet", None, what)
    if 0 < numerator < THRESHOLD or denominator < THRESHOLD:
        return Value(f"{SUPPRESSED} of {denominator if denominator >= THRESHOLD else SUPPRESSED}")
    share = wilson(numerator, denominator)
    return Value(f"{share.percent}% ({numerator} of {denominator})", share.percent, what)


class Facts:
    """The programme's figures, each loaded on first use."""

    def __init__(self, programme: Programme, today: datetime.date | None = None):
        self.programme = programme
        self.today = today or timezone.localdate()

    @cached_property
    def mentees(self) -> dict[str, int]:
        rows = self.programme.mentees.order_by().values("status").annotate(n=Count("pk"))
        counts = {row["status"]: row["n"] for row in rows}
        counts["all"] = sum(counts.values())
        return counts

    @cached_property
    def matched(self) -> int:
        """Mentees with a match: a request the mentor declined is none."""
        return (
            self.programme.relationships.exclude(stage=Relationship.Stage.DECLINED)
            .order_by()
            .values("mentee_id")
            .distinct()
            .count()
        )

    @cached_property
    def rematched(self) -> int:
        return self.programme.relationships.filter(stage=Relationship.Stage.REMATCHED).count()

    @cached_property
    def caseloads(self) -> list[int]:
        """Each mentor's mentees matched in the last 12 months, as the dashboard and the
        matching pages count a caseload."""
        return [matched for _, matched in dashboard.caseloads(self.programme, self.today)]

    @cached_property
    def agreements_signed(self) -> int:
        return (
            Agreement.objects.filter(
                relationship__programme=self.programme,
                mentor_signed_at__isnull=False,
                mentee_signed_at__isnull=False,
            )
            .order_by()
            .values("relationship_id")
            .distinct()
            .count()
        )

    @cached_property
    def sessions(self) -> dict[str, int]:
        totals = self.programme.session_logs.filter(held_on__lte=self.today).aggregate(
            n=Count("pk"), minutes=Sum("duration_minutes")
        )
        return {"n": totals["n"] or 0, "minutes": totals["minutes"] or 0}

    @cached_property
    def mentors(self) -> dict[str, int]:
        return self.programme.mentors.aggregate(
            n=Count("pk"), trained=Count("pk", filter=Q(training_completed_on__isnull=False))
        )

    @cached_property
    def self_assessed(self) -> int:
        return (
            SelfAssessment.objects.filter(mentee__programme=self.programme)
            .order_by()
            .values("mentee_id")
            .distinct()
            .count()
        )

    @cached_property
    def waves(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(audience, wave) -> (invited, completed)."""
        rows = (
            self.programme.survey_invitations.order_by()
            .values("audience", "wave")
            .annotate(invited=Count("pk"), done=Count("pk", filter=Q(completed_at__isnull=False)))
        )
        return {(r["audience"], r["wave"]): (r["invited"], r["done"]) for r in rows}

    @cached_property
    def measures(self) -> dict[tuple[str, str], outcomes.Comparison]:
        """Starter to closure only: the comparison indicators show."""
        reports, _ = outcomes.outcomes(self.programme, follow_ups=[CLOSURE])
        return {(r.code, c.wave): c for r in reports for c in r.comparisons}

    @cached_property
    def mentor_again(self) -> tuple[int, int]:
        """As the cohort report counts it: each mentor's first closure answer."""
        figures = cohort.gather(self.programme)
        given = [
            answers.get("will_mentor_again")
            for answers in figures.closure_answers.get((cohort.MENTOR, cohort.ALL), {}).values()
        ]
        given = [value for value in given if value not in (None, "")]
        return sum(1 for value in given if cohort.is_positive("will_mentor_again", value)), len(
            given
        )


def _response_rate(audience: str, wave: str) -> Callable[[Facts], Value]:
    def compute(facts: Facts) -> Value:
        invited, done = facts.waves.get((audience, wave), (0, 0))
        return _percent(done, invited, "responses ÷ people invited")

    return compute


def _change(code: str, wave: str) -> Callable[[Facts], Value]:
    def compute(facts: Facts) -> Value:
        comparison = facts.measures.get((code, wave))
        if comparison is None or not comparison.change.n:
            return Value("No pairs yet")
        if comparison.suppressed:
            return Value(f"n {SUPPRESSED}: not shown")
        mean = comparison.change.mean
        return Value(f"{mean:+.2f} (n {comparison.change.n})", round(mean, 2), "mean change")

    return compute


def _caseload(facts: Facts) -> Value:
    if not facts.caseloads:
        return Value("No mentors yet")
    per_mentor = sum(facts.caseloads) / len(facts.caseloads)
    target = facts.programme.caseload_target
    return Value(
        f"{per_mentor:.1f} a mentor in the last 12 months (target {target})", round(per_mentor, 1)
    )


INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in [
        Indicator("mentees_identified", "Mentees identified", lambda f: _count(f.mentees["all"])),
        Indicator("mentees_matched", "Mentees matched with a mentor", lambda f: _count(f.matched)),
        Indicator(
            "mentees_active",
            "Mentees in an active relationship",
            lambda f: _count(
                f.mentees.get(Mentee.Status.ACTIVE, 0) + f.mentees.get(Mentee.Status.MATCHED, 0)
            ),
        ),
        Indicator(
            "mentees_closed",
            "Mentees whose mentoring has closed",
            lambda f: _count(f.mentees.get(Mentee.Status.CLOSED, 0)),
        ),
        Indicator(
            "agreements_signed",
            "Agreements signed by both",
            lambda f: _count(f.agreements_signed),
        ),
        Indicator("sessions_held", "Mentoring sessions held", lambda f: _count(f.sessions["n"])),
        Indicator(
            "session_hours",
            "Hours of mentoring",
            lambda f: Value(
                f"{f.sessions['minutes'] / 60:,.1f}", round(f.sessions["minutes"] / 60, 1)
            ),
        ),
        Indicator("mentor_caseload", "Mentor caseload against target", _caseload),
        Indicator(
            "mentors_trained",
            "Mentors who completed mentoring training",
            lambda f: Value(f"{f.mentors['trained']} of {f.mentors['n']}", f.mentors["trained"]),
        ),
        Indicator(
            "self_assessed",
            "Mentees with a capability self-assessment",
            lambda f: _count(f.self_assessed),
        ),
        Indicator("rematches", "Rematches", lambda f: _count(f.rematched)),
        *(
            Indicator(
                f"response_rate_{wave}",
                f"Response rate: mentee {wave} survey",
                _response_rate(Audience.MENTEE, wave),
            )
            for wave in ("starter", "midpoint", "closure")
        ),
        *(
            Indicator(
                f"change_{code}_closure",
                f"Mean change in {label.lower()}, starter to closure",
                _change(code, "closure"),
            )
            for code, label in outcomes.MEASURES
        ),
        Indicator(
            "mentors_mentor_again",
            "Mentors who would mentor again",
            lambda f: _percent(*f.mentor_again, "answering yes ÷ mentors who answered"),
        ),
    ]
}


def choices() -> list[tuple[str, str]]:
    return [("", "None")] + [(code, i.label) for code, i in INDICATORS.items()]


def value_of(code: str, facts: Facts) -> Value | None:
    indicator = INDICATORS.get(code)
    return indicator.compute(facts) if indicator else None
