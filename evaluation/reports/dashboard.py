"""The programme dashboard: where the programme stands today, from its records.

Enrolment, time to match, match rate, engagement and relationships needing
attention are counted per trust (the mentee's trust) and for the whole programme;
mentor caseloads are shown per mentor by pseudonym, never by name and without the
trust, which in a small programme would point to the person; overdue surveys are
counted per wave.

Counts from 1 to 7 in a trust's cell show as "<8". The programme's own totals of
records are shown as they are: they count records the admin and evaluators already
see, and no trust-sized group hides in them. Survey figures are always suppressed,
totals included, because they describe who did or did not answer.
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.utils import timezone

from mentoring.models import Mentee, Relationship
from mentoring.services import needs_attention_condition, with_activity, with_caseload
from programmes.models import Programme

from ..statistics import wilson
from ..suppression import SUPPRESSED, THRESHOLD, suppress
from .base import Cell, Report, Table, register

TOTAL = "Whole programme"
NO_TRUST = "No trust recorded"
MATCHED_STAGES = [s for s in Relationship.Stage.values if s != Relationship.Stage.DECLINED]
ENGAGED_STAGES = list(Relationship.OPEN_STAGES)
CHART_WIDTH = 300


@dataclass
class Bar:
    label: str
    value: int
    y: int
    width: float


def bars(pairs: list[tuple[str, int]], *, top: int = 0) -> list[Bar]:
    """Horizontal bars for an inline SVG chart, one row of 24 units each."""
    top = max(top, *(value for _, value in pairs), 0) or 1
    return [
        Bar(label, value, index * 24, round(CHART_WIDTH * value / top, 1))
        for index, (label, value) in enumerate(pairs)
    ]


def _mean(total: float, count: int, places: int = 1) -> float | None:
    return round(total / count, places) if count else None


def trust_rows(programme: Programme, trust_ids: set[int | None]) -> list[tuple[int | None, str]]:
    """The trusts with a mentee or a mentor in the programme, by name; then any without."""
    rows = sorted(
        programme.organisation.trusts.filter(pk__in=trust_ids).values_list("pk", "name"),
        key=lambda row: row[1],
    )
    return rows + ([(None, NO_TRUST)] if None in trust_ids else [])


def enrolment(programme: Programme) -> tuple[dict, dict]:
    """Mentees per trust and status, and mentors per trust and whether they take new ones."""
    mentees: dict[int | None, Counter] = defaultdict(Counter)
    for trust_id, status, count in (
        programme.mentees.order_by()
        .values("trust_id", "status")
        .annotate(n=Count("pk"))
        .values_list("trust_id", "status", "n")
    ):
        mentees[trust_id][status] += count
    mentors: dict[int | None, Counter] = defaultdict(Counter)
    for trust_id, accepting, count in (
        programme.mentors.order_by()
        .values("trust_id", "accepting_new")
        .annotate(n=Count("pk"))
        .values_list("trust_id", "accepting_new", "n")
    ):
        mentors[trust_id]["accepting" if accepting else "not_accepting"] += count
    return mentees, mentors


def match_times(programme: Programme) -> dict[int | None, list[int]]:
    """Days from identification to the first match, per trust, for every matched mentee.

    A match is dated by the first relationship's start or, when that was put later
    than the day it was made, the day it was made; a declined request is no match.
    """
    days: dict[int | None, list[int]] = defaultdict(list)
    rows = (
        programme.mentees.order_by()
        .annotate(
            first_started=Min(
                "relationships__started_on", filter=Q(relationships__stage__in=MATCHED_STAGES)
            ),
            first_made=Min(
                "relationships__created_at", filter=Q(relationships__stage__in=MATCHED_STAGES)
            ),
        )
        .filter(first_started__isnull=False)
        .values_list("trust_id", "identified_at", "first_started", "first_made")
    )
    for trust_id, identified_at, first_started, first_made in rows:
        matched_on = min(first_started, timezone.localdate(first_made))
        days[trust_id].append(max((matched_on - timezone.localdate(identified_at)).days, 0))
    return days


def activity(programme: Programme, today: datetime.date) -> dict[int | None, dict]:
    """Open relationships per trust: their sessions, minutes and how many need attention."""
    per_trust: dict[int | None, dict] = defaultdict(
        lambda: {"relationships": 0, "sessions": 0, "minutes": 0, "attention": 0}
    )
    rows = (
        with_activity(programme.relationships.filter(stage__in=ENGAGED_STAGES))
        .annotate(needs_attention=needs_attention_condition([programme], today))
        .order_by()
        .values_list("mentee__trust_id", "sessions_count", "minutes_total", "needs_attention")
    )
    for trust_id, sessions, minutes, attention in rows:
        counts = per_trust[trust_id]
        counts["relationships"] += 1
        counts["sessions"] += sessions or 0
        counts["minutes"] += minutes or 0
        counts["attention"] += bool(attention)
    return per_trust


def caseload_bands(target: int) -> list[tuple[str, int, int | None]]:
    """Bands of mentees matched in a year, from none to the target and over:
    (label, lowest, highest or None for "and over")."""
    if target <= 1:
        return [("None", 0, 0), (f"{max(target, 1)} or more (target)", max(target, 1), None)]

    def span(lowest: int, highest: int) -> str:
        return str(lowest) if lowest == highest else f"{lowest} to {highest}"

    middle = max(target // 2, 1)
    bands = [("None", 0, 0), (span(1, middle), 1, middle)]
    if middle + 1 <= target - 1:
        bands.append((span(middle + 1, target - 1), middle + 1, target - 1))
    bands.append((f"{target} or more (target)", target, None))
    return bands


def caseloads(programme: Programme, today: datetime.date) -> list[tuple[int, int]]:
    """Each mentor's open relationships and mentees matched in the last 12 months, as the
    matching pages count them (``with_caseload``), in one query."""
    return list(
        with_caseload(programme.mentors.order_by(), today).values_list(
            "open_count", "started_last_year"
        )
    )


def overdue_surveys(programme: Programme, today: datetime.date) -> list[tuple]:
    """Per wave: invited, completed, overdue with the link still open, expired unanswered."""
    open_ = Q(completed_at__isnull=True)
    return list(
        programme.survey_invitations.order_by()
        .values("wave")
        .annotate(
            invited=Count("pk"),
            completed=Count("pk", filter=Q(completed_at__isnull=False)),
            overdue=Count("pk", filter=open_ & Q(due_on__lt=today, expires_on__gte=today)),
            expired=Count("pk", filter=open_ & Q(expires_on__lt=today)),
        )
        .order_by("wave")
        .values_list("wave", "invited", "completed", "overdue", "expired")
    )


def _wave_label(wave: str) -> str:
    """A wave's stable code as people read it: "mentor_closure" is "Mentor closure"."""
    return wave.replace("_", " ").capitalize()


def _percent(numerator: int, denominator: int) -> int | None:
    return wilson(numerator, denominator).percent


def build_tables(programme: Programme, today: datetime.date) -> tuple[list[Table], dict]:
    mentees, mentors = enrolment(programme)
    days = match_times(programme)
    engaged = activity(programme, today)
    trusts = trust_rows(programme, set(mentees) | set(mentors) | set(days) | set(engaged))
    statuses = list(Mentee.Status.choices)

    def enrolment_row(label: str, counts: Counter, cell) -> list[Cell]:
        values = [counts.get(status, 0) for status, _ in statuses]
        return [label, *(cell(v) for v in values), cell(sum(values))]

    all_mentees: Counter = sum(mentees.values(), Counter())
    enrolment_table = Table(
        key="enrolment",
        title="Mentees by status",
        columns=["Trust", *(label for _, label in statuses), "All mentees"],
        rows=[enrolment_row(name, mentees.get(pk, Counter()), suppress) for pk, name in trusts]
        + [enrolment_row(TOTAL, all_mentees, int)],
        note=f"A mentee counts in their own trust. In a trust's row, counts from 1 to "
        f"{THRESHOLD - 1} are shown as {SUPPRESSED}; the programme's totals count records "
        "and are shown as they are.",
    )

    all_mentors: Counter = sum(mentors.values(), Counter())

    def mentor_row(label: str, counts: Counter, cell) -> list[Cell]:
        accepting, closed = counts.get("accepting", 0), counts.get("not_accepting", 0)
        return [label, cell(accepting), cell(closed), cell(accepting + closed)]

    mentor_table = Table(
        key="mentors",
        title="Mentors",
        columns=["Trust", "Accepting new mentees", "Not accepting new mentees", "All mentors"],
        rows=[mentor_row(name, mentors.get(pk, Counter()), suppress) for pk, name in trusts]
        + [mentor_row(TOTAL, all_mentors, int)],
        note=f"In a trust's row, counts from 1 to {THRESHOLD - 1} are shown as {SUPPRESSED}.",
    )

    def match_row(label: str, identified: int, matched: int, cell) -> list[Cell]:
        small = cell(identified) == SUPPRESSED or cell(matched) == SUPPRESSED
        percent = None if small else _percent(matched, identified)
        return [label, cell(matched), cell(identified), percent]

    matched_by_trust = {pk: len(values) for pk, values in days.items()}
    match_table = Table(
        key="match-rate",
        title="Match rate: mentees matched of those identified",
        columns=["Trust", "Matched", "Identified", "Matched (%)"],
        rows=[
            match_row(
                name,
                sum(mentees.get(pk, Counter()).values()),
                matched_by_trust.get(pk, 0),
                suppress,
            )
            for pk, name in trusts
        ]
        + [match_row(TOTAL, sum(all_mentees.values()), sum(matched_by_trust.values()), int)],
        note="Identified counts every mentee the programme has recorded, whatever their status "
        "now; matched counts those who have had a mentor (a declined request is no match). "
        f"No percentage is given where either count is below {THRESHOLD}.",
    )

    def time_row(label: str, values: list[int], small_hidden: bool) -> list[Cell]:
        if not values:
            return [label, 0, None, None, None]
        if small_hidden and len(values) < THRESHOLD:
            return [label, SUPPRESSED, None, None, None]
        return [label, len(values), round(statistics.median(values), 1), min(values), max(values)]

    all_days = [d for values in days.values() for d in values]
    time_table = Table(
        key="time-to-match",
        title="Days from identification to match",
        columns=["Trust", "Mentees matched", "Median days", "Fewest days", "Most days"],
        rows=[time_row(name, days.get(pk, []), True) for pk, name in trusts]
        + [time_row(TOTAL, all_days, False)],
        note="From the day a mentee was identified to the day of their first match. A trust "
        f"with fewer than {THRESHOLD} matched mentees shows {SUPPRESSED} and no days.",
    )

    def engagement_row(label: str, counts: dict | None, small_hidden: bool) -> list[Cell]:
        counts = counts or {"relationships": 0, "sessions": 0, "minutes": 0}
        n = counts["relationships"]
        if not n:
            return [label, 0, None, None, None, None]
        if small_hidden and n < THRESHOLD:
            return [label, SUPPRESSED, None, None, None, None]
        hours = counts["minutes"] / 60
        return [
            label,
            n,
            counts["sessions"],
            _mean(counts["sessions"], n),
            round(hours, 1),
            _mean(hours, n),
        ]

    all_engaged = {
        key: sum(c[key] for c in engaged.values())
        for key in ("relationships", "sessions", "minutes", "attention")
    }
    engagement_table = Table(
        key="engagement",
        title="Sessions and hours in active relationships",
        columns=[
            "Trust",
            "Active relationships",
            "Sessions",
            "Sessions per relationship",
            "Hours",
            "Hours per relationship",
        ],
        rows=[engagement_row(name, engaged.get(pk), True) for pk, name in trusts]
        + [engagement_row(TOTAL, all_engaged, False)],
        note="Active relationships are those not yet closed. Every logged session counts, a "
        "group session once for each relationship in it. A trust with fewer than "
        f"{THRESHOLD} active relationships shows {SUPPRESSED} and no averages.",
    )

    attention_table = Table(
        key="needs-attention",
        title="Active relationships needing attention",
        columns=["Trust", "Active relationships", "Needing attention"],
        rows=[
            [
                name,
                suppress(engaged.get(pk, {}).get("relationships", 0)),
                suppress(engaged.get(pk, {}).get("attention", 0)),
            ]
            for pk, name in trusts
        ]
        + [[TOTAL, all_engaged["relationships"], all_engaged["attention"]]],
        note=f"A relationship needs attention after {programme.inactivity_days} days without "
        "a session (or since it started, with none yet): the programme's own setting, the "
        "same the lead nurse's list and the mentor's reminder use.",
    )

    target = programme.caseload_target
    mentor_rows = caseloads(programme, today)
    # Mentors by how many mentees they were matched with this year, in bands up to the
    # target: as long as the programme has few or many mentors.
    band_rows = []
    for label, lowest, highest in caseload_bands(target):
        within = [
            (current, this_year)
            for current, this_year in mentor_rows
            if this_year >= lowest and (highest is None or this_year <= highest)
        ]
        band_rows.append([label, len(within), sum(current for current, _ in within)])
    caseload_table = Table(
        key="caseloads",
        title="Mentors by mentees matched in the last 12 months, against the target",
        columns=["Mentees matched in the last 12 months", "Mentors", "Their current mentees"],
        rows=band_rows,
        note=f"Mentees are counted as the matching pages count them: matched in the last 12 "
        "months, declined requests left out; "
        f"the target is {target} a year. Current mentees are those "
        "in an active relationship. "
        "These count mentors' workloads, not mentees, so they are shown as they are.",
    )
    met = sum(1 for _, this_year in mentor_rows if this_year >= target)

    wave_rows = overdue_surveys(programme, today)
    survey_table = Table(
        key="overdue-surveys",
        title="Survey invitations by wave",
        columns=[
            "Wave",
            "Invited",
            "Completed",
            "Overdue, link still open",
            "Expired without an answer",
        ],
        rows=[[_wave_label(wave), *(suppress(v) for v in values)] for wave, *values in wave_rows]
        + (
            [[TOTAL, *(suppress(sum(row[i] for row in wave_rows)) for i in range(1, 5))]]
            if wave_rows
            else []
        ),
        note="Overdue: past its due date and not completed while its link still works. "
        f"Counts from 1 to {THRESHOLD - 1} are shown as {SUPPRESSED}, the totals too: they "
        "say who has or has not answered.",
    )

    status_bars = bars([(label, all_mentees.get(status, 0)) for status, label in statuses])
    caseload_bars = bars([(label, mentors) for label, mentors, _ in band_rows])
    context = {
        "status_bars": status_bars,
        "status_chart_height": 24 * len(status_bars),
        "caseload_bars": caseload_bars,
        "caseload_chart_height": 24 * len(caseload_bars),
        "mentors_met": met,
        "mentor_count": len(mentor_rows),
        "caseload_target": target,
        "mentee_total": sum(all_mentees.values()),
        "threshold": THRESHOLD,
        "today": today,
    }
    tables = [
        enrolment_table,
        mentor_table,
        match_table,
        time_table,
        engagement_table,
        attention_table,
        caseload_table,
        survey_table,
    ]
    return tables, context


SECTIONS = [
    ("enrolment", "Enrolment"),
    ("matching", "Matching"),
    ("engagement", "Engagement"),
    ("caseloads", "Mentor caseloads"),
    ("surveys", "Overdue surveys"),
]


@register(
    "dashboard",
    "Programme dashboard",
    "Mentees and mentors, time to match and match rate, sessions, mentor caseloads, "
    "overdue surveys and relationships needing attention, by trust",
    order=10,
)
def build(programme: Programme) -> Report:
    today = timezone.localdate()
    tables, context = build_tables(programme, today)
    missing = []
    if not context["mentee_total"]:
        missing.append("No mentee has been identified in this programme yet.")
    if not context["mentor_count"]:
        missing.append("No mentor has joined this programme yet.")
    return Report(
        key="dashboard",
        title="Programme dashboard",
        template="evaluation/reports/_dashboard.html",
        context={**context, **{t.key.replace("-", "_") + "_table": t for t in tables}},
        tables=tables,
        sections=SECTIONS,
        missing=missing,
    )
