"""Bulk import of mentors and mentees into a programme from a CSV file.

Two halves. The parser (``decode``, ``parse``) is pure: it takes the file's
text and the organisation's trusts, and returns the cleaned rows and *every*
problem with its line number, touching no database. The import services
(``import_mentors``, ``import_mentees``) take rows the parser passed and write
them in one transaction. Nothing is written unless the whole file is valid.

Importing is an upsert on programme + e-mail address, so the same file imported
twice leaves the same records. A blank optional cell leaves an existing record's
value as it is (and gives the model's default to a new record).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from programmes import audit
from programmes.models import AuditEvent, Membership, Programme, Role

from .models import Mentee, Mentor

MENTORS = "mentors"
MENTEES = "mentees"
KIND_LABELS = {MENTORS: "Mentors", MENTEES: "Mentees"}

MAX_FILE_BYTES = 1_000_000
MAX_ROWS = 1000


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str


MENTOR_COLUMNS = (
    Column("email", True, "Work e-mail address. Identifies the mentor: one row each."),
    Column("full_name", True, "Full name. Used for a new account only."),
    Column("trust_ods_code", False, "ODS code of the trust they work in, for example RHM."),
    Column("profession", False, "For example, cancer clinical nurse specialist."),
    Column("band", False, "Agenda for Change band, for example 8a."),
    Column("years_experience", False, "Years of experience, a whole number."),
    Column("specialisms", False, "Separated by commas, for example: lung, breast."),
    Column("max_concurrent", False, "Most mentees at once, a whole number (default 4)."),
    Column("max_per_year", False, "Most mentees a year, a whole number (default 8)."),
)

MENTEE_COLUMNS = (
    Column("email", True, "Work e-mail address. Identifies the mentee: one row each."),
    Column("full_name", True, "Full name."),
    Column("trust_ods_code", True, "ODS code of their trust, for example RHM."),
    Column("role_title", True, "Their role, for example lung cancer CNS."),
    Column("specialism", False, "For example, the tumour site."),
    Column("appointed_on", True, "Date appointed to the role: YYYY-MM-DD or DD/MM/YYYY."),
    Column("years_registered", False, "Years registered, a whole number."),
    Column("band", False, "Agenda for Change band, for example 7."),
    Column("line_manager_name", False, "Their line manager's name."),
    Column("line_manager_email", False, "Their line manager's e-mail address."),
    Column("identified_by", True, "Lead nurse, line manager or self-referral."),
    Column("priority", False, "High, medium or low (default medium)."),
    Column("priority_reason", False, "Why this priority."),
)

COLUMNS = {MENTORS: MENTOR_COLUMNS, MENTEES: MENTEE_COLUMNS}


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says what to do."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass
class ParseResult:
    kind: str
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def emails(self) -> list[str]:
        return [row["email"] for row in self.rows]


@dataclass(frozen=True)
class ImportCounts:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


# --- Reading the file ---------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text. Accepts UTF-8 with or without the byte order mark Excel writes."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            f"The file is larger than {MAX_FILE_BYTES // 1_000_000} MB. "
            f"Split it into files of at most {MAX_ROWS} rows."
        )
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "The file is an Excel workbook, not a CSV file. In Excel, choose "
            "Save As and the format CSV UTF-8 (Comma delimited), then upload that file."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not saved as UTF-8 text. In Excel, choose Save As and the "
            "format CSV UTF-8 (Comma delimited), then upload that file."
        ) from None
    if "\x00" in text:
        raise ImportFileError("The file is not a CSV file. Upload a CSV file saved as UTF-8.")
    return text


def data_rows(reader, names: list[str]) -> Iterator[tuple[int, dict[str, str], list[str]]]:
    """Each row after the first that is not blank: its line number, its cells by column
    name (trimmed; a short row's missing cells are empty), and the cells as read.

    A file of more than MAX_ROWS rows is refused whole rather than half imported.
    """
    count = 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportFileError(
                f"The file has more than {MAX_ROWS} rows. Split it into files of at most "
                f"{MAX_ROWS} rows and import them one after another."
            )
        raw = {
            name: (cells[i].strip() if i < len(cells) else "")
            for i, name in enumerate(names)
            if name
        }
        yield reader.line_num, raw, cells


def _header_name(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def parse(kind: str, text: str, *, trusts: dict[str, int], today: datetime.date) -> ParseResult:
    """Check every row of a mentors or mentees file.

    ``trusts`` maps the organisation's ODS codes (upper case) to trust ids.
    Line numbers are the file's: the header is line 1. A row whose quoted cell
    spans several lines is numbered by its last line, as a spreadsheet would not
    show such a row anyway.
    """
    columns = COLUMNS[kind]
    clean = _clean_mentor if kind == MENTORS else _clean_mentee
    result = ParseResult(kind=kind)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportFileError(
                "The file is empty. Use the template: its first row names the columns."
            )
        names = [_header_name(cell) for cell in header]
        known = {column.name for column in columns}
        for column in columns:
            if column.required and column.name not in names:
                result.errors.append(
                    RowError(1, column.name, f'The first row has no "{column.name}" column')
                )
        for name in sorted({n for n in names if n in known and names.count(n) > 1}):
            result.errors.append(RowError(1, name, f'The first row has "{name}" more than once'))
        if result.errors:
            return result

        seen: dict[str, int] = {}
        for line, raw, cells in data_rows(reader, [n if n in known else "" for n in names]):
            if len(cells) > len(names) and any(cell.strip() for cell in cells[len(names) :]):
                result.errors.append(
                    RowError(line, "", "This row has more cells than the first row has columns")
                )
                continue
            row, errors = _check_row(raw, line, clean, trusts=trusts, today=today)
            email = row.get("email")
            if email:
                if email in seen:
                    errors.append(RowError(line, "email", f"{email} is also on line {seen[email]}"))
                else:
                    seen[email] = line
            if errors:
                result.errors.extend(errors)
            else:
                result.rows.append(row)
    except csv.Error as error:
        raise ImportFileError(
            f"Line {reader.line_num} cannot be read as CSV ({error}). Check the file was "
            "saved as CSV UTF-8 (Comma delimited)."
        ) from None
    if not result.rows and not result.errors:
        raise ImportFileError("The file has a header row but no rows to import.")
    return result


def _check_row(raw, line, clean, **context) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []

    def problem(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    row = clean(raw, problem, **context)
    row["line"] = line
    return row, errors


# --- Cleaning one cell ----------------------------------------------------------------

Problem = Callable[[str, str], None]


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:39] + "…"


def _text(raw, name, problem: Problem, *, max_length: int, required: bool = False, label=""):
    value = raw.get(name, "")
    if not value:
        if required:
            problem(name, f"Enter the {label or name.replace('_', ' ')}")
        return ""
    if len(value) > max_length:
        problem(
            name,
            f"{(label or name.replace('_', ' ')).capitalize()} must be "
            f"{max_length} characters or fewer",
        )
    return value


def _email(raw, name, problem: Problem, *, required: bool, label="e-mail address"):
    value = raw.get(name, "").lower()
    if not value:
        if required:
            problem(name, f"Enter the {label}")
        return ""
    try:
        validate_email(value)
    except ValidationError:
        problem(name, f'"{_shown(value)}" is not a valid {label}')
        return ""
    if len(value) > 254:
        problem(name, f"The {label} must be 254 characters or fewer")
    return value


def _whole_number(raw, name, problem: Problem, *, minimum: int, maximum: int):
    value = raw.get(name, "")
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        problem(name, f'"{_shown(value)}" is not a whole number')
        return None
    if not minimum <= number <= maximum:
        problem(
            name, f"{name.replace('_', ' ').capitalize()} must be between {minimum} and {maximum}"
        )
        return None
    return number


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def parse_date(value: str) -> datetime.date | None:
    """A date written YYYY-MM-DD or DD/MM/YYYY (as UK Excel writes it), else None."""
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, date_format).date()
        except ValueError:
            continue
    return None


def _date(raw, name, problem: Problem, *, today: datetime.date, required: bool):
    value = raw.get(name, "")
    if not value:
        if required:
            problem(name, f"Enter the {name.replace('_', ' ')} as YYYY-MM-DD or DD/MM/YYYY")
        return None
    date = parse_date(value)
    if date is None:
        problem(name, f'"{_shown(value)}" is not a real date. Use YYYY-MM-DD or DD/MM/YYYY')
        return None
    if date > today:
        problem(name, "The date appointed must be today or in the past")
        return None
    return date


def _trust(raw, problem: Problem, trusts: dict[str, int], *, required: bool):
    value = raw.get("trust_ods_code", "").upper()
    if not value:
        if required:
            problem("trust_ods_code", "Enter the trust's ODS code")
        return None
    if value not in trusts:
        problem(
            "trust_ods_code",
            f'No trust in this organisation has the ODS code "{_shown(value)}"',
        )
        return None
    return trusts[value]


def _choice(raw, name, problem: Problem, choices: dict[str, object], *, required, hint):
    value = raw.get(name, "")
    if not value:
        if required:
            problem(name, f"Enter {hint}")
        return None
    key = value.strip().lower().replace("-", " ").replace("_", " ")
    if key not in choices:
        problem(name, f'"{_shown(value)}" is not one of: {hint}')
        return None
    return choices[key]


IDENTIFIED_BY = {
    "lead nurse": Mentee.IdentifiedBy.LEAD_NURSE.value,
    "line manager": Mentee.IdentifiedBy.LINE_MANAGER.value,
    "self referral": Mentee.IdentifiedBy.SELF_REFERRAL.value,
    "self": Mentee.IdentifiedBy.SELF_REFERRAL.value,
}
PRIORITIES = {
    "high": Mentee.Priority.HIGH.value,
    "medium": Mentee.Priority.MEDIUM.value,
    "low": Mentee.Priority.LOW.value,
    "1": Mentee.Priority.HIGH.value,
    "2": Mentee.Priority.MEDIUM.value,
    "3": Mentee.Priority.LOW.value,
}


def _clean_mentor(raw, problem: Problem, *, trusts, today) -> dict:
    return {
        "email": _email(raw, "email", problem, required=True),
        "full_name": _text(
            raw, "full_name", problem, max_length=200, required=True, label="full name"
        ),
        "trust_id": _trust(raw, problem, trusts, required=False),
        "profession": _text(raw, "profession", problem, max_length=120),
        "band": _text(raw, "band", problem, max_length=20),
        "years_experience": _whole_number(raw, "years_experience", problem, minimum=0, maximum=70),
        "specialisms": _text(raw, "specialisms", problem, max_length=300),
        "max_concurrent": _whole_number(raw, "max_concurrent", problem, minimum=0, maximum=50),
        "max_per_year": _whole_number(raw, "max_per_year", problem, minimum=0, maximum=100),
    }


def _clean_mentee(raw, problem: Problem, *, trusts, today) -> dict:
    return {
        "email": _email(raw, "email", problem, required=True),
        "full_name": _text(
            raw, "full_name", problem, max_length=200, required=True, label="full name"
        ),
        "trust_id": _trust(raw, problem, trusts, required=True),
        "role_title": _text(
            raw, "role_title", problem, max_length=120, required=True, label="role"
        ),
        "specialism": _text(raw, "specialism", problem, max_length=120),
        "appointed_on": _date(raw, "appointed_on", problem, today=today, required=True),
        "years_registered": _whole_number(raw, "years_registered", problem, minimum=0, maximum=60),
        "band": _text(raw, "band", problem, max_length=20),
        "line_manager_name": _text(raw, "line_manager_name", problem, max_length=200),
        "line_manager_email": _email(
            raw,
            "line_manager_email",
            problem,
            required=False,
            label="line manager's e-mail address",
        ),
        "identified_by": _choice(
            raw,
            "identified_by",
            problem,
            IDENTIFIED_BY,
            required=True,
            hint="lead nurse, line manager or self-referral",
        ),
        "priority": _choice(
            raw, "priority", problem, PRIORITIES, required=False, hint="high, medium or low"
        ),
        "priority_reason": _text(raw, "priority_reason", problem, max_length=2000),
    }


def template_csv(kind: str) -> str:
    """An empty file with the expected columns, for people to fill in."""
    out = io.StringIO()
    csv.writer(out).writerow([column.name for column in COLUMNS[kind]])
    return out.getvalue()


# --- Writing (services) -----------------------------------------------------------------


def already_present(programme: Programme, kind: str, emails: Iterable[str]) -> set[str]:
    """Which of these addresses the programme already has a mentor or mentee record for."""
    emails = list(emails)
    if kind == MENTORS:
        found = programme.mentors.filter(user__email__in=emails).values_list(
            "user__email", flat=True
        )
    else:
        found = programme.mentees.filter(email__in=emails).values_list("email", flat=True)
    return {email.lower() for email in found}


def _set_given(obj, row: dict, names: Iterable[str]) -> None:
    for name in names:
        value = row[name]
        if value not in (None, ""):
            setattr(obj, name, value)


MENTOR_FIELDS = (
    "trust_id",
    "profession",
    "band",
    "years_experience",
    "specialisms",
    "max_concurrent",
    "max_per_year",
)


@transaction.atomic
def import_mentors(programme: Programme, rows: list[dict], *, actor) -> ImportCounts:
    """Upsert mentors by e-mail: the account (no usable password if new), the
    mentor role in the organisation, and the programme's mentor profile."""
    User = get_user_model()
    organisation = programme.organisation
    emails = [row["email"] for row in rows]
    users = {user.email.lower(): user for user in User.objects.filter(email__in=emails)}
    new_users = []
    for row in rows:
        if row["email"] not in users:
            user = User(email=row["email"], full_name=row["full_name"])
            user.set_unusable_password()
            new_users.append(user)
    User.objects.bulk_create(new_users)
    users = {user.email.lower(): user for user in User.objects.filter(email__in=emails)}

    has_role = set(
        Membership.objects.filter(
            organisation=organisation, role=Role.MENTOR, user__in=users.values()
        ).values_list("user_id", flat=True)
    )
    Membership.objects.bulk_create(
        Membership(organisation=organisation, user=user, role=Role.MENTOR)
        for user in users.values()
        if user.pk not in has_role
    )

    mentors = {m.user_id: m for m in programme.mentors.filter(user__in=users.values())}
    created, updated = [], []
    for row in rows:
        user = users[row["email"]]
        mentor = mentors.get(user.pk)
        if mentor is None:
            mentor = Mentor(programme=programme, user=user)
            created.append(mentor)
        else:
            updated.append(mentor)
        _set_given(mentor, row, MENTOR_FIELDS)
    Mentor.objects.bulk_create(created)
    if updated:
        Mentor.objects.bulk_update(updated, [f for f in MENTOR_FIELDS])
    counts = ImportCounts(created=len(created), updated=len(updated))
    _record(programme, actor, "mentor import", counts, accounts_created=len(new_users))
    return counts


MENTEE_FIELDS = (
    "full_name",
    "trust_id",
    "role_title",
    "specialism",
    "appointed_on",
    "years_registered",
    "band",
    "line_manager_name",
    "line_manager_email",
    "identified_by",
    "priority",
    "priority_reason",
)


@transaction.atomic
def import_mentees(programme: Programme, rows: list[dict], *, actor) -> ImportCounts:
    """Upsert mentee records by programme and e-mail; no accounts are needed."""
    existing = {m.email: m for m in programme.mentees.filter(email__in=[r["email"] for r in rows])}
    now = timezone.now()
    created, updated = [], []
    for row in rows:
        mentee = existing.get(row["email"])
        if mentee is None:
            mentee = Mentee(
                programme=programme, email=row["email"], created_by=actor, identified_at=now
            )
            created.append(mentee)
        else:
            updated.append(mentee)
        _set_given(mentee, row, MENTEE_FIELDS)
    Mentee.objects.bulk_create(created)
    if updated:
        Mentee.objects.bulk_update(updated, list(MENTEE_FIELDS))
    counts = ImportCounts(created=len(created), updated=len(updated))
    _record(programme, actor, "mentee import", counts)
    return counts


def import_rows(programme: Programme, result: ParseResult, *, actor) -> ImportCounts:
    if not result.is_valid:
        raise ValueError("Only a file with no problems can be imported.")
    service = import_mentors if result.kind == MENTORS else import_mentees
    return service(programme, result.rows, actor=actor)


def _record(programme, actor, object_type, counts: ImportCounts, **extra) -> None:
    # Counts only: the file's names and addresses stay out of the audit trail.
    label = f"{counts.total} rows: {counts.created} new, {counts.updated} already present"
    if extra.get("accounts_created"):
        label += f", {extra['accounts_created']} accounts created"
    audit.record(
        organisation=programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        object_type=object_type,
        object_id=programme.pk,
        label=label,
    )
