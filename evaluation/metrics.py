"""Organisational metrics: each trust's monthly figures, typed in or imported, and the
programme's baseline month compared with 3, 6 and 12 months later.

The figures come from the Model Health System or ESR, so the import accepts their
column headings as well as ours. As with the other imports, the parser is pure (the
file's text and the organisation's trusts in, cleaned rows and *every* problem with
its line number out) and the import service writes a file only when every row is
right, in one transaction. A figure is unique per trust, month and measure, so
importing the same file again updates figures rather than adding new ones.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from mentoring.imports import ImportFileError, RowError, data_rows, parse_date
from programmes import audit
from programmes.models import AuditEvent, Organisation, Programme, Trust

from .models import OrganisationalMetric
from .reports.base import Table

Measure = OrganisationalMetric.Measure
Source = OrganisationalMetric.Source

MEASURES: list[tuple[str, str]] = list(Measure.choices)
# Plain names for messages and headings, without the unit the choice label carries.
SHORT_NAMES = {
    Measure.TURNOVER: "Turnover rate",
    Measure.LEAVER_RATE: "Leaver rate",
    Measure.SICKNESS_ABSENCE: "Sickness absence rate",
    Measure.VACANCY_RATE: "Vacancy rate",
    Measure.STAFF_ENGAGEMENT: "Staff engagement score",
}
# Each measure's allowed range: rates are percentages, engagement the staff survey's 0 to 10.
RANGES: dict[str, tuple[Decimal, Decimal]] = {
    Measure.TURNOVER: (Decimal(0), Decimal(100)),
    Measure.LEAVER_RATE: (Decimal(0), Decimal(100)),
    Measure.SICKNESS_ABSENCE: (Decimal(0), Decimal(100)),
    Measure.VACANCY_RATE: (Decimal(0), Decimal(100)),
    Measure.STAFF_ENGAGEMENT: (Decimal(0), Decimal(10)),
}
FOLLOW_UP_MONTHS = (3, 6, 12)
CENT = Decimal("0.01")


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def range_message(measure: str) -> str:
    low, high = RANGES[measure]
    unit = "" if measure == Measure.STAFF_ENGAGEMENT else "%"
    return f"{SHORT_NAMES[measure]} must be between {low}{unit} and {high}{unit}"


# --- Typing figures in -----------------------------------------------------------------


@dataclass(frozen=True)
class SaveCounts:
    created: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated


def figures_for(trust: Trust, month: datetime.date) -> dict[str, Decimal]:
    """The figures a trust already has for a month, by measure."""
    return dict(trust.organisational_metrics.filter(month=month).values_list("measure", "value"))


@transaction.atomic
def save_month(
    trust: Trust, month: datetime.date, values: dict[str, Decimal | None], *, actor
) -> SaveCounts:
    """Save one trust's figures for one month as typed: a blank measure is not known, so
    a figure saved for it before is removed."""
    month = first_of_month(month)
    existing = {m.measure: m for m in trust.organisational_metrics.filter(month=month)}
    created = updated = removed = 0
    for measure, _ in MEASURES:
        value = values.get(measure)
        metric = existing.get(measure)
        if value is None:
            if metric is not None:
                metric.delete()
                removed += 1
            continue
        if metric is None:
            OrganisationalMetric.objects.create(
                trust=trust,
                month=month,
                measure=measure,
                value=value,
                source=Source.TYPED,
                entered_by=actor,
            )
            created += 1
        elif metric.value != value or metric.source != Source.TYPED:
            metric.value, metric.source, metric.entered_by = value, Source.TYPED, actor
            metric.save(update_fields=["value", "source", "entered_by", "updated_at"])
            updated += 1
    counts = SaveCounts(created, updated, removed)
    audit.record(
        organisation=trust.organisation,
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        object_type="organisational metrics",
        object_id=trust.pk,
        label=f"{trust.name} {month:%B %Y}: {created} new, {updated} changed, {removed} removed",
    )
    return counts


# --- Importing a file -------------------------------------------------------------------


def header_key(cell: str) -> str:
    """A heading reduced to words joined by underscores: "Sickness absence rate (%)"
    becomes "sickness_absence_rate"."""
    text = cell.strip().lstrip("\ufeff").lower().replace("%", " ")
    text = re.sub(r"\([^)]*\)", " ", text)
    return "_".join(re.findall(r"[a-z0-9]+", text))


TRUST_CODE = "ods_code"
TRUST_NAME = "trust"
MONTH = "month"
HEADERS: dict[str, str] = {
    "ods_code": TRUST_CODE,
    "ods": TRUST_CODE,
    "trust_ods_code": TRUST_CODE,
    "org_code": TRUST_CODE,
    "organisation_code": TRUST_CODE,
    "trust_code": TRUST_CODE,
    "trust": TRUST_NAME,
    "trust_name": TRUST_NAME,
    "organisation": TRUST_NAME,
    "organisation_name": TRUST_NAME,
    "month": MONTH,
    "period": MONTH,
    "date": MONTH,
    "reporting_month": MONTH,
    "reporting_period": MONTH,
    "month_start": MONTH,
    "turnover": Measure.TURNOVER,
    "turnover_rate": Measure.TURNOVER,
    "staff_turnover": Measure.TURNOVER,
    "staff_turnover_rate": Measure.TURNOVER,
    "leaver_rate": Measure.LEAVER_RATE,
    "leavers_rate": Measure.LEAVER_RATE,
    "leaver": Measure.LEAVER_RATE,
    "leavers": Measure.LEAVER_RATE,
    "sickness_absence": Measure.SICKNESS_ABSENCE,
    "sickness_absence_rate": Measure.SICKNESS_ABSENCE,
    "sickness_rate": Measure.SICKNESS_ABSENCE,
    "sickness": Measure.SICKNESS_ABSENCE,
    "vacancy_rate": Measure.VACANCY_RATE,
    "vacancy": Measure.VACANCY_RATE,
    "vacancies": Measure.VACANCY_RATE,
    "staff_engagement": Measure.STAFF_ENGAGEMENT,
    "staff_engagement_score": Measure.STAFF_ENGAGEMENT,
    "engagement": Measure.STAFF_ENGAGEMENT,
    "engagement_score": Measure.STAFF_ENGAGEMENT,
    "staff_survey_engagement": Measure.STAFF_ENGAGEMENT,
    "staff_survey_engagement_score": Measure.STAFF_ENGAGEMENT,
}


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str


COLUMNS = (
    Column(
        "ods_code",
        False,
        "The trust's ODS code, for example RHM. Or a trust column "
        "with the trust's name as this organisation has it.",
    ),
    Column(
        "month",
        True,
        "The month: YYYY-MM (2025-03), or any date in it (2025-03-01 or 01/03/2025), or Mar 2025.",
    ),
    Column(
        "turnover",
        False,
        'Turnover rate, % from 0 to 100. Also read from a "Turnover rate" column.',
    ),
    Column("leaver_rate", False, "Leaver rate, % from 0 to 100."),
    Column(
        "sickness_absence",
        False,
        "Sickness absence rate, % from 0 to 100. Also read from "
        'a "Sickness absence rate (%)" column.',
    ),
    Column("vacancy_rate", False, 'Vacancy rate, % from 0 to 100. Also read from "Vacancy rate".'),
    Column(
        "staff_engagement",
        False,
        'Staff survey engagement score, from 0 to 10. Also read from "Staff engagement score".',
    ),
)


@dataclass
class MetricsParse:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def figure_count(self) -> int:
        return sum(len(row["values"]) for row in self.rows)


@dataclass(frozen=True)
class TrustLookup:
    """The organisation's trusts by ODS code and by name, both in upper case."""

    by_code: dict[str, int]
    by_name: dict[str, int]
    names: dict[int, str]

    @classmethod
    def of(cls, organisation: Organisation) -> TrustLookup:
        rows = list(organisation.trusts.values_list("pk", "ods_code", "name"))
        return cls(
            by_code={code.upper(): pk for pk, code, _ in rows},
            by_name={" ".join(name.split()).upper(): pk for pk, _, name in rows},
            names={pk: name for pk, _, name in rows},
        )

    def find(self, code: str, name: str) -> tuple[int | None, str]:
        """The trust's id, or None and what is wrong."""
        if code:
            pk = self.by_code.get(code.upper())
            if pk is None:
                return None, f'No trust in this organisation has the ODS code "{_shown(code)}"'
            return pk, ""
        if name:
            pk = self.by_name.get(" ".join(name.split()).upper())
            if pk is None:
                return None, f'No trust in this organisation is called "{_shown(name)}"'
            return pk, ""
        return None, "Enter the trust's ODS code (or its name in a trust column)"


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:39] + "…"


MONTH_FORMATS = ("%Y-%m", "%m/%Y", "%b %Y", "%B %Y", "%b-%y", "%b-%Y", "%B-%Y")


def parse_month(value: str) -> datetime.date | None:
    """The first of the month a cell names: YYYY-MM, MM/YYYY, Mar 2025, Mar-25 or a date."""
    value = " ".join(value.split())
    day = parse_date(value)
    if day is not None:
        return first_of_month(day)
    for month_format in MONTH_FORMATS:
        try:
            return datetime.datetime.strptime(value, month_format).date().replace(day=1)
        except ValueError:
            continue
    return None


def parse_value(measure: str, value: str) -> tuple[Decimal | None, str]:
    """A figure rounded to 2 decimal places, or None and what is wrong."""
    text = value.strip().rstrip("%").strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as some exports write
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, f'{SHORT_NAMES[measure]} "{_shown(value)}" is not a number'
    if not number.is_finite():
        return None, f'{SHORT_NAMES[measure]} "{_shown(value)}" is not a number'
    low, high = RANGES[measure]
    if not low <= number <= high:
        return None, range_message(measure)
    return number.quantize(CENT, rounding=ROUND_HALF_UP), ""


def parse(text: str, *, trusts: TrustLookup, today: datetime.date) -> MetricsParse:
    """Check every row of a metrics file. The header is line 1."""
    result = MetricsParse()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportFileError(
                "The file is empty. Use the template: its first row names the columns."
            )
        names = [HEADERS.get(header_key(cell), "") for cell in header]
        if MONTH not in names:
            result.errors.append(RowError(1, "month", 'The first row has no "month" column'))
        if TRUST_CODE not in names and TRUST_NAME not in names:
            result.errors.append(
                RowError(1, "ods_code", 'The first row has no "ods_code" (or "trust") column')
            )
        result.measures = [m for m, _ in MEASURES if m in names]
        if not result.measures:
            result.errors.append(
                RowError(
                    1,
                    "",
                    "The first row names no measure: add a column such as turnover, "
                    "leaver_rate, sickness_absence, vacancy_rate or staff_engagement",
                )
            )
        for name in sorted({n for n in names if n and names.count(n) > 1}):
            result.errors.append(
                RowError(1, name, f'The first row has more than one "{name}" column')
            )
        if result.errors:
            return result

        seen: dict[tuple[int, datetime.date], int] = {}
        this_month = first_of_month(today)
        for line, raw, _ in data_rows(reader, names):
            errors: list[RowError] = []
            trust_id, problem = trusts.find(raw.get(TRUST_CODE, ""), raw.get(TRUST_NAME, ""))
            if problem:
                errors.append(RowError(line, "ods_code", problem))
            month = None
            if not raw.get(MONTH):
                errors.append(RowError(line, "month", "Enter the month, like 2025-03"))
            else:
                month = parse_month(raw[MONTH])
                if month is None:
                    errors.append(
                        RowError(
                            line,
                            "month",
                            f'"{_shown(raw[MONTH])}" is not a month. Use YYYY-MM, like 2025-03',
                        )
                    )
                elif month > this_month:
                    errors.append(RowError(line, "month", "The month must not be in the future"))
                    month = None
            values: dict[str, Decimal] = {}
            for measure in result.measures:
                if not raw.get(measure):
                    continue
                value, problem = parse_value(measure, raw[measure])
                if problem:
                    errors.append(RowError(line, measure, problem))
                else:
                    values[measure] = value
            if not values and not any(e.column in result.measures for e in errors):
                errors.append(RowError(line, "", "This row has no figures"))
            if trust_id and month:
                key = (trust_id, month)
                if key in seen:
                    errors.append(
                        RowError(
                            line,
                            "month",
                            f"{trusts.names[trust_id]} {month:%B %Y} is also on line {seen[key]}",
                        )
                    )
                else:
                    seen[key] = line
            if errors:
                result.errors.extend(errors)
            else:
                result.rows.append(
                    {
                        "line": line,
                        "trust_id": trust_id,
                        "trust": trusts.names[trust_id],
                        "month": month,
                        "values": values,
                    }
                )
    except csv.Error as error:
        raise ImportFileError(
            f"Line {reader.line_num} cannot be read as CSV ({error}). Check the file was "
            "saved as CSV UTF-8 (Comma delimited)."
        ) from None
    if not result.rows and not result.errors:
        raise ImportFileError("The file has a header row but no rows to import.")
    return result


def template_csv() -> str:
    out = io.StringIO()
    csv.writer(out).writerow([column.name for column in COLUMNS])
    return out.getvalue()


def _existing(
    organisation: Organisation, rows: Iterable[dict]
) -> dict[tuple, OrganisationalMetric]:
    rows = list(rows)
    trust_ids = {row["trust_id"] for row in rows}
    months = {row["month"] for row in rows}
    found = OrganisationalMetric.objects.filter(
        trust__organisation=organisation, trust_id__in=trust_ids, month__in=months
    )
    return {(m.trust_id, m.month, m.measure): m for m in found}


def already_present(organisation: Organisation, result: MetricsParse) -> set[tuple]:
    """(line, measure) of each figure in the file that replaces one already saved."""
    existing = _existing(organisation, result.rows)
    return {
        (row["line"], measure)
        for row in result.rows
        for measure in row["values"]
        if (row["trust_id"], row["month"], measure) in existing
    }


@transaction.atomic
def import_figures(organisation: Organisation, result: MetricsParse, *, actor) -> SaveCounts:
    """Write a checked file's figures: new ones created, those already saved updated."""
    if not result.is_valid:
        raise ValueError("Only a file with no problems can be imported.")
    existing = _existing(organisation, result.rows)
    created, updated = [], []
    for row in result.rows:
        for measure, value in row["values"].items():
            metric = existing.get((row["trust_id"], row["month"], measure))
            if metric is None:
                created.append(
                    OrganisationalMetric(
                        trust_id=row["trust_id"],
                        month=row["month"],
                        measure=measure,
                        value=value,
                        source=Source.IMPORTED,
                        entered_by=actor,
                    )
                )
            else:
                metric.value, metric.source, metric.entered_by = value, Source.IMPORTED, actor
                updated.append(metric)
    OrganisationalMetric.objects.bulk_create(created)
    # bulk_update does not run auto_now, so the time of the change is set here.
    now = timezone.now()
    for metric in updated:
        metric.updated_at = now
    if updated:
        OrganisationalMetric.objects.bulk_update(
            updated, ["value", "source", "entered_by", "updated_at"]
        )
    counts = SaveCounts(created=len(created), updated=len(updated))
    audit.record(
        organisation=organisation,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        object_type="organisational metrics import",
        object_id=organisation.pk,
        label=f"{counts.total} figures: {counts.created} new, {counts.updated} updated",
    )
    return counts


# --- The list page ----------------------------------------------------------------------


@dataclass
class MeasureGrid:
    """One measure: a row per trust, a cell per month (the figure, or None where not
    known, and whether the month is the baseline)."""

    code: str
    label: str
    rows: list[tuple[Trust, list[tuple[Decimal | None, bool]]]]


@dataclass
class Grid:
    months: list[datetime.date]
    measures: list[MeasureGrid]
    baseline_month: datetime.date | None
    figure_count: int
    months_hidden: int = 0


MAX_MONTHS_SHOWN = 18


def grid(programme: Programme) -> Grid:
    """Every figure of the organisation's trusts, as a table per measure.

    The months run from the first month with a figure (or the baseline month, if
    earlier) to the last, newest 18 shown; the baseline month is always among them
    when it has figures or is set."""
    trusts = list(programme.organisation.trusts.order_by("name"))
    figures = list(
        OrganisationalMetric.objects.filter(trust__organisation=programme.organisation).values_list(
            "trust_id", "month", "measure", "value"
        )
    )
    baseline = first_of_month(programme.baseline_on) if programme.baseline_on else None
    present = {month for _, month, _, _ in figures}
    if baseline:
        present.add(baseline)
    months: list[datetime.date] = []
    if present:
        month, last = min(present), max(present)
        while month <= last:
            months.append(month)
            month += relativedelta(months=1)
    hidden = max(0, len(months) - MAX_MONTHS_SHOWN)
    months = months[hidden:]
    values = {(t, m, measure): v for t, m, measure, v in figures}
    measures = [
        MeasureGrid(
            code=code,
            label=label,
            rows=[
                (trust, [(values.get((trust.pk, m, code)), m == baseline) for m in months])
                for trust in trusts
            ],
        )
        for code, label in MEASURES
    ]
    return Grid(months, measures, baseline, len(figures), hidden)


# --- Baseline versus follow-up ----------------------------------------------------------


@dataclass
class Comparison:
    """The figures at the baseline month and 3, 6 and 12 months after, per measure."""

    baseline_month: datetime.date | None
    tables: list[Table]  # one per measure
    missing: list[str]
    has_baseline_figures: bool
    follow_up_months: list[datetime.date] = field(default_factory=list)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def follow_up_tables(programme: Programme) -> Comparison:
    """Each measure's figure per trust at the baseline month and 3, 6 and 12 months on,
    with the difference from baseline. Says what is missing instead of failing."""
    if programme.baseline_on is None:
        return Comparison(
            None,
            [],
            [
                "No baseline date is set for the programme, so organisational metrics cannot "
                "be compared with it. An admin can set it on the organisational metrics page."
            ],
            False,
        )
    baseline = first_of_month(programme.baseline_on)
    follow_ups = [baseline + relativedelta(months=n) for n in FOLLOW_UP_MONTHS]
    figures = OrganisationalMetric.objects.filter(
        trust__organisation=programme.organisation, month__in=[baseline, *follow_ups]
    ).values_list("trust_id", "trust__name", "month", "measure", "value")
    values: dict[tuple, Decimal] = {}
    trust_names: dict[int, str] = {}
    for trust_id, name, month, measure, value in figures:
        values[(trust_id, month, measure)] = value
        trust_names[trust_id] = name
    ordered = sorted(trust_names.items(), key=lambda item: item[1])
    has_baseline = any(month == baseline for _, month, _ in values)
    tables = []
    for code, label in MEASURES:
        rows = []
        for trust_id, name in ordered:
            base = values.get((trust_id, baseline, code))
            later = [values.get((trust_id, month, code)) for month in follow_ups]
            if base is None and all(v is None for v in later):
                continue
            row: list = [name, _number(base)]
            for value in later:
                change = None if value is None or base is None else value - base
                row += [_number(value), _number(change)]
            rows.append(row)
        header = [
            "Trust",
            f"Baseline ({baseline:%b %Y})",
            *[
                c
                for months, month in zip(FOLLOW_UP_MONTHS, follow_ups, strict=True)
                for c in (f"{months} months ({month:%b %Y})", f"Change at {months} months")
            ],
        ]
        tables.append(
            Table(
                key=f"metric-{code}",
                title=f"{label}: baseline and 3, 6 and 12 months later",
                columns=header,
                rows=rows,
                note=f"Each trust's figure for the month; the change is the later figure minus "
                f"the baseline month's ({baseline:%B %Y}). A dash means no figure for that "
                "month.",
            )
        )
    missing = []
    if not has_baseline:
        missing.append(
            f"No organisational figures have been entered for the baseline month "
            f"({baseline:%B %Y}), so there is nothing to compare later months with."
        )
    return Comparison(baseline, tables, missing, has_baseline, follow_ups)
