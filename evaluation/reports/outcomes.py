"""Baseline versus follow-up: each survey measure's paired change per mentee, the
organisational metrics against the programme's baseline month, and retention of
mentored staff against comparison groups.

A mentee's baseline is their starter survey; each follow-up wave (midpoint, closure,
and 3, 6 and 12 months after) is paired with it by the mentee's pseudonym, so no
name is needed to link the waves. A comparison with fewer than 8 pairs is shown as
"<8" without statistics: a figure from so few people could point to them. The same
holds for retention: a group count from 1 to 7 is shown as "<8".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.utils import timezone

from programmes.models import Programme

from .. import metrics, retention
from ..statistics import PairedChange, paired_change
from ..suppression import SUPPRESSED, THRESHOLD
from .base import Report, Table, register

BASELINE = "starter"
MEASURES = [
    ("confidence_role", "Confidence in the role"),
    ("job_satisfaction", "Job satisfaction"),
    ("wellbeing", "Wellbeing at work"),
    ("belonging", "Sense of belonging"),
    ("intention_stay", "Intention to stay"),
]
FOLLOW_UPS = [
    ("midpoint", "Midpoint"),
    ("closure", "Closure"),
    ("follow_up_3", "3 months after closure"),
    ("follow_up_6", "6 months after closure"),
    ("follow_up_12", "12 months after closure"),
]
SCALE = range(-4, 5)  # a change on a 5-point scale


@dataclass
class Comparison:
    wave: str
    label: str
    change: PairedChange

    @property
    def suppressed(self) -> bool:
        return 0 < self.change.n < THRESHOLD

    @property
    def n_shown(self) -> int | str:
        return SUPPRESSED if self.suppressed else self.change.n

    @cached_property
    def bars(self) -> list[dict]:
        """The distribution of changes, for the chart: one bar per change from -4 to +4."""
        counts = self.change.distribution
        top = max(counts.values(), default=0) or 1
        bars = []
        for index, step in enumerate(SCALE):
            count = counts.get(step, 0)
            height = round(60 * count / top, 1)
            bars.append(
                {
                    "change": f"{step:+d}" if step else "0",
                    "direction": "up" if step > 0 else "down" if step < 0 else "same",
                    "count": count,
                    "x": index * 20 + 2,
                    "y": round(64 - height, 1),
                    "height": height,
                }
            )
        return bars


@dataclass
class MeasureReport:
    code: str
    label: str
    baseline_n: int
    comparisons: list[Comparison]


def _score(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 5 else None


def first_answers(
    programme: Programme, waves: list[str], extra: tuple[str, ...] = ()
) -> dict[str, dict[str, tuple]]:
    """Each wave's submitted answers by pseudonym: ``(answers, *extra fields)``. The first
    submitted answer of a wave counts; a later duplicate does not."""
    found: dict[str, dict[str, tuple]] = {}
    responses = (
        programme.survey_responses.filter(submitted_at__isnull=False, wave__in=waves)
        .order_by("submitted_at", "pk")
        .values_list("pseudonym", "wave", "answers", *extra)
    )
    for pseudonym, wave, given, *more in responses.iterator(chunk_size=2000):
        found.setdefault(wave, {}).setdefault(pseudonym, (given or {}, *more))
    return found


def outcomes(
    programme: Programme, follow_ups: list[tuple[str, str]] = FOLLOW_UPS
) -> tuple[list[MeasureReport], int]:
    """Each measure's comparisons with the given follow-up waves (all of them unless
    asked otherwise), and how many mentees answered the starter survey."""
    waves = [BASELINE, *(wave for wave, _ in follow_ups)]
    answers = {
        wave: {pseudonym: found[0] for pseudonym, found in by_person.items()}
        for wave, by_person in first_answers(programme, waves).items()
    }
    baseline = answers.get(BASELINE, {})
    reports = []
    for code, label in MEASURES:
        base_scores = {p: _score(a.get(code)) for p, a in baseline.items()}
        base_scores = {p: s for p, s in base_scores.items() if s is not None}
        comparisons = []
        for wave, wave_label in follow_ups:
            before, after = [], []
            for pseudonym, given in sorted(answers.get(wave, {}).items()):
                later = _score(given.get(code))
                if later is not None and pseudonym in base_scores:
                    before.append(base_scores[pseudonym])
                    after.append(later)
            comparisons.append(Comparison(wave, wave_label, paired_change(before, after)))
        reports.append(MeasureReport(code, label, len(base_scores), comparisons))
    return reports, len(baseline)


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def measure_table(report: MeasureReport) -> Table:
    """One measure's comparisons as shown: suppressed rows carry "<8" and no statistics."""
    rows = []
    for row in report.comparisons:
        change = row.change
        if change.n and not row.suppressed:
            rows.append(
                [
                    row.label,
                    change.n,
                    _round(change.mean, 2),
                    _round(change.ci_low, 2),
                    _round(change.ci_high, 2),
                    _round(change.median, 1),
                    _round(change.p_value, 3),
                    _round(change.effect_r, 2),
                ]
            )
        else:
            rows.append([row.label, row.n_shown, None, None, None, None, None, None])
    return Table(
        key=f"change-{report.code}",
        title=f"{report.label}: change from the starter survey",
        columns=[
            "Compared with",
            "n (pairs)",
            "Mean change",
            "95% CI low",
            "95% CI high",
            "Median change",
            "p (Wilcoxon)",
            "Effect size r",
        ],
        rows=rows,
        note=f"n is the mentees who answered {report.label.lower()} in both surveys; "
        f"fewer than {THRESHOLD} pairs are shown as {SUPPRESSED} without statistics.",
    )


@register(
    "outcomes",
    "Baseline versus follow-up",
    "How confidence, job satisfaction, wellbeing, belonging and intention to stay change "
    "from the starter survey; organisational metrics against the baseline month; retention "
    "against comparison groups",
    order=20,
)
def build(programme: Programme) -> Report:
    reports, baseline_n = outcomes(programme)
    survey_tables = [measure_table(r) for r in reports]
    missing = []
    if not baseline_n:
        missing.append(
            "No mentee has answered the starter survey yet, so there is no baseline to "
            "compare with."
        )
    organisational = metrics.follow_up_tables(programme)
    missing += organisational.missing
    groups = retention.groups_retention(programme, timezone.localdate())
    retention_tables = [retention.retention_table(groups, m) for m in retention.PERIODS]
    comparisons = [g for g in groups if g.key != "mentored"]
    if not comparisons:
        missing.append(
            "No comparison group or previous cohort has been added, so mentored staff's "
            "retention has nothing to be compared with."
        )
    metric_sections = [
        (f"metric-{code}", label, table)
        for (code, label), table in zip(metrics.MEASURES, organisational.tables, strict=False)
    ]
    sections = []
    if baseline_n:
        sections += [("survey-measures", "Survey measures")]
        sections += [(f"measure-{r.code}", r.label) for r in reports]
    sections.append(("organisational-metrics", "Organisational metrics"))
    sections += [(anchor, label) for anchor, label, _ in metric_sections]
    sections.append(("retention", "Retention"))
    return Report(
        key="outcomes",
        title="Baseline versus follow-up",
        template="evaluation/reports/_outcomes.html",
        context={
            "measures": list(zip(reports, survey_tables, strict=True)),
            "baseline_n": baseline_n,
            "threshold": THRESHOLD,
            "any_pairs": any(c.change.n for r in reports for c in r.comparisons),
            "organisational": organisational,
            "metric_sections": metric_sections,
            "retention_tables": retention_tables,
            "comparison_groups": comparisons,
            "mentored": groups[0],
        },
        tables=survey_tables + organisational.tables + retention_tables,
        sections=sections,
        missing=missing,
    )
