"""Retention: the share of mentored staff still in their role 6 and 12 months after they
started it, beside comparison groups and previous cohorts.

A mentee counts as mentored once they have had a relationship in the programme. Their
start is the day they were appointed to the role (or, when that is not recorded, the
start of their first relationship), and they left on ``Mentee.left_role_on``. A
comparison member's start and leaving day are recorded on the member. Only people who
started at least 6 (or 12) months ago count at 6 (or 12) months: for anyone newer the
answer is not known yet. Someone who left on or after the day 6 months after they
started stayed 6 months.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Count, Min, Q

from mentoring.imports import ImportFileError, RowError, data_rows, parse_date
from programmes import audit
from programmes.models import AuditEvent, Programme

from .metrics import TrustLookup, header_key
from .models import ComparisonGroup, ComparisonMember
from .reports.base import Table
from .statistics import Proportion, fisher_exact, wilson
from .suppression import SUPPRESSED, THRESHOLD

PERIODS = (6, 12)
MENTORED = "Mentored staff"

Span = tuple[datetime.date, datetime.date | None]


@dataclass(frozen=True)
class Retention:
    months: int
    n: int
    stayed: int

    @property
    def proportion(self) -> Proportion:
        return wilson(self.stayed, self.n)

    @property
    def suppressed(self) -> bool:
        """The group is too small to show (1 to 7 people)."""
        return 0 < self.n < THRESHOLD

    @property
    def stayed_suppressed(self) -> bool:
        """The count still in post is from 1 to 7: shown as "<8", with no percentage or
        statistics that would give it away."""
        return 0 < self.stayed < THRESHOLD

    @property
    def shown(self) -> bool:
        return self.n > 0 and not self.suppressed and not self.stayed_suppressed


def retention(spans: Iterable[Span], months: int, today: datetime.date) -> Retention:
    """Among people who started at least ``months`` ago, how many were still in the role
    ``months`` after they started."""
    n = stayed = 0
    for started, left in spans:
        anniversary = started + relativedelta(months=months)
        if anniversary > today:
            continue
        n += 1
        if left is None or left >= anniversary:
            stayed += 1
    return Retention(months, n, stayed)


def mentored_spans(programme: Programme) -> list[Span]:
    """Each mentored mentee's start in the role and the day they left it (one query)."""
    rows = (
        programme.mentees.filter(relationships__programme=programme)
        .annotate(first_started=Min("relationships__started_on"))
        .values_list("appointed_on", "first_started", "left_role_on")
    )
    return [(appointed or first, left) for appointed, first, left in rows if appointed or first]


@dataclass
class GroupRetention:
    key: str
    name: str
    kind: str
    kind_label: str
    periods: dict[int, Retention] = field(default_factory=dict)
    p_values: dict[int, float | None] = field(default_factory=dict)
    members: int = 0


def groups_retention(
    programme: Programme, today: datetime.date | None = None
) -> list[GroupRetention]:
    """Mentored staff first, then each comparison group and previous cohort (2 queries)."""
    today = today or datetime.date.today()
    mentored = mentored_spans(programme)
    result = [
        GroupRetention(
            "mentored",
            MENTORED,
            "mentored",
            "Mentees of this programme",
            {m: retention(mentored, m, today) for m in PERIODS},
            members=len(mentored),
        )
    ]
    # One query for the groups and their members together: a group with no members
    # comes back as one row without dates.
    groups: dict[int, tuple[str, str]] = {}
    spans: dict[int, list[Span]] = {}
    rows = programme.comparison_groups.order_by("kind", "name", "pk").values_list(
        "pk", "name", "kind", "members__started_on", "members__left_on"
    )
    for pk, name, kind, started, left in rows:
        groups.setdefault(pk, (name, kind))
        members = spans.setdefault(pk, [])
        if started is not None:
            members.append((started, left))
    kind_labels = dict(ComparisonGroup.Kind.choices)
    for pk, (name, kind) in groups.items():
        periods = {m: retention(spans[pk], m, today) for m in PERIODS}
        row = GroupRetention(
            f"group-{pk}",
            name,
            kind,
            kind_labels.get(kind, kind),
            periods,
            members=len(spans[pk]),
        )
        for m in PERIODS:
            ours, theirs = result[0].periods[m], periods[m]
            row.p_values[m] = (
                fisher_exact(ours.stayed, ours.n, theirs.stayed, theirs.n)
                if ours.shown and theirs.shown
                else None
            )
        result.append(row)
    return result


def _percent(value: float | None) -> int | None:
    return None if value is None else round(100 * value)


def retention_table(rows: list[GroupRetention], months: int):
    """One period's table, as shown: "<8" and no statistics for a count from 1 to 7."""
    body = []
    for row in rows:
        period = row.periods[months]
        p_value = row.p_values.get(months)
        if period.n == 0:
            body.append([row.name, row.kind_label, 0, 0, None, None, None, None])
        elif period.suppressed:
            body.append([row.name, row.kind_label, SUPPRESSED, None, None, None, None, None])
        elif period.stayed_suppressed:
            body.append([row.name, row.kind_label, period.n, SUPPRESSED, None, None, None, None])
        else:
            proportion = period.proportion
            body.append(
                [
                    row.name,
                    row.kind_label,
                    period.n,
                    period.stayed,
                    proportion.percent,
                    _percent(proportion.low),
                    _percent(proportion.high),
                    None if p_value is None else round(p_value, 3),
                ]
            )
    return Table(
        key=f"retention-{months}",
        title=f"Still in the role {months} months after starting it",
        columns=[
            "Group",
            "Who they are",
            "n",
            "Still in post",
            "% still in post",
            "95% CI low (%)",
            "95% CI high (%)",
            "p (Fisher's exact, against mentored staff)",
        ],
        rows=body,
        note=f"n is the people in each group who started in the role at least {months} "
        f"months ago; still in post is those who had not left it {months} months after "
        f"they started. A group, or a count still in post, of 1 to {THRESHOLD - 1} people is "
        f"shown as {SUPPRESSED}, without a percentage or statistics.",
        label_columns=2,
    )


# --- Comparison members -----------------------------------------------------------------


def group_summaries(programme: Programme) -> list[ComparisonGroup]:
    """The programme's groups with their member and leaver counts (one query)."""
    return list(
        programme.comparison_groups.annotate(
            member_count=Count("members"),
            leaver_count=Count("members", filter=Q(members__left_on__isnull=False)),
        ).order_by("kind", "name")
    )


MEMBER_HEADERS = {
    "reference": "reference",
    "ref": "reference",
    "id": "reference",
    "local_id": "reference",
    "assignment_number": "reference",
    "esr_assignment_number": "reference",
    "ods_code": "ods_code",
    "ods": "ods_code",
    "trust_ods_code": "ods_code",
    "org_code": "ods_code",
    "trust": "trust",
    "trust_name": "trust",
    "role": "role",
    "role_title": "role",
    "job_role": "role",
    "started_on": "started_on",
    "start_date": "started_on",
    "started": "started_on",
    "date_started": "started_on",
    "left_on": "left_on",
    "leaving_date": "left_on",
    "left": "left_on",
    "date_left": "left_on",
    "end_date": "left_on",
}


@dataclass(frozen=True)
class MemberColumn:
    name: str
    required: bool
    description: str


MEMBER_COLUMNS = (
    MemberColumn(
        "reference",
        False,
        "A local reference such as an ESR assignment number, never a name. With it, "
        "importing again updates the member instead of adding another.",
    ),
    MemberColumn("ods_code", False, "The ODS code of the member's trust, for example RHM."),
    MemberColumn("role", False, "Their role, for example lung cancer CNS."),
    MemberColumn("started_on", True, "The day they started in the role: YYYY-MM-DD or DD/MM/YYYY."),
    MemberColumn("left_on", False, "The day they left the role; blank if they are still in it."),
)


@dataclass
class MembersParse:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:39] + "…"


def _date(raw: dict, name: str, line: int, errors: list, today: datetime.date, label: str):
    value = raw.get(name, "")
    if not value:
        return None
    day = parse_date(value)
    if day is None:
        errors.append(
            RowError(
                line, name, f'"{_shown(value)}" is not a real date. Use YYYY-MM-DD or DD/MM/YYYY'
            )
        )
        return None
    if day > today:
        errors.append(RowError(line, name, f"The day {label} must be today or in the past"))
        return None
    return day


def parse_members(text: str, *, trusts: TrustLookup, today: datetime.date) -> MembersParse:
    """Check every row of a comparison group file. The header is line 1."""
    result = MembersParse()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportFileError(
                "The file is empty. Use the template: its first row names the columns."
            )
        names = [MEMBER_HEADERS.get(header_key(cell), "") for cell in header]
        if "started_on" not in names:
            result.errors.append(
                RowError(1, "started_on", 'The first row has no "started_on" column')
            )
        for name in sorted({n for n in names if n and names.count(n) > 1}):
            result.errors.append(
                RowError(1, name, f'The first row has more than one "{name}" column')
            )
        if result.errors:
            return result
        seen: dict[str, int] = {}
        for line, raw, _ in data_rows(reader, names):
            errors: list[RowError] = []
            reference = raw.get("reference", "")
            if len(reference) > 40:
                errors.append(
                    RowError(line, "reference", "The reference must be 40 characters or fewer")
                )
            elif reference:
                if reference in seen:
                    errors.append(
                        RowError(
                            line, "reference", f"{reference} is also on line {seen[reference]}"
                        )
                    )
                else:
                    seen[reference] = line
            trust_id = None
            if raw.get("ods_code") or raw.get("trust"):
                trust_id, problem = trusts.find(raw.get("ods_code", ""), raw.get("trust", ""))
                if problem:
                    errors.append(RowError(line, "ods_code", problem))
            role = raw.get("role", "")
            if len(role) > 120:
                errors.append(RowError(line, "role", "The role must be 120 characters or fewer"))
            started = _date(raw, "started_on", line, errors, today, "they started")
            if not raw.get("started_on"):
                errors.append(
                    RowError(line, "started_on", "Enter the day they started, as YYYY-MM-DD")
                )
            left = _date(raw, "left_on", line, errors, today, "they left")
            if started and left and left < started:
                errors.append(
                    RowError(
                        line, "left_on", "The day they left must be after the day they started"
                    )
                )
            if errors:
                result.errors.extend(errors)
            else:
                result.rows.append(
                    {
                        "line": line,
                        "reference": reference,
                        "trust_id": trust_id,
                        "trust": trusts.names.get(trust_id, ""),
                        "role_title": role,
                        "started_on": started,
                        "left_on": left,
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


def members_template_csv() -> str:
    out = io.StringIO()
    csv.writer(out).writerow([column.name for column in MEMBER_COLUMNS])
    return out.getvalue()


def present_references(group: ComparisonGroup, result: MembersParse) -> set[str]:
    references = [row["reference"] for row in result.rows if row["reference"]]
    return set(group.members.filter(reference__in=references).values_list("reference", flat=True))


MEMBER_FIELDS = ("trust_id", "role_title", "started_on", "left_on")


@transaction.atomic
def import_members(group: ComparisonGroup, result: MembersParse, *, actor) -> tuple[int, int]:
    """Add the file's members; a member whose reference is already in the group is
    updated instead. Returns (new, updated)."""
    if not result.is_valid:
        raise ValueError("Only a file with no problems can be imported.")
    existing = {
        m.reference: m
        for m in group.members.filter(
            reference__in=[row["reference"] for row in result.rows if row["reference"]]
        )
    }
    created, updated = [], []
    for row in result.rows:
        member = existing.get(row["reference"]) if row["reference"] else None
        if member is None:
            member = ComparisonMember(group=group, reference=row["reference"])
            created.append(member)
        else:
            updated.append(member)
        for name in MEMBER_FIELDS:
            setattr(member, name, row[name])
    ComparisonMember.objects.bulk_create(created)
    if updated:
        ComparisonMember.objects.bulk_update(updated, list(MEMBER_FIELDS))
    audit.record(
        organisation=group.programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        object_type="comparison group import",
        object_id=group.pk,
        label=f"{group.name}: {len(created)} new members, {len(updated)} updated",
    )
    return len(created), len(updated)
