"""Importing survey responses from a CSV export of Microsoft Forms or a similar tool.

Three steps, each safe to repeat. ``read_csv`` reads the file (UTF-8, with or without
the byte order mark Excel writes). The person importing maps each column to a
question code, or ignores it, and names the column holding the username each
respondent gave (and, optionally, their e-mail address). ``check_rows`` then checks
*every* row with the same rules as the survey form and returns every problem with its
line number; it touches no database. Only a file with no problems is imported, by
``import_responses``, in one transaction.

Each row's ``import_key`` is a SHA-256 of the programme, the wave and the row as
normalised here (the respondent's name and e-mail in lower case, the answers as they
will be stored), so importing the same file twice, or a later export that repeats
earlier rows, adds nothing. Timestamps and the source tool's row id are left out of
the key on purpose: re-saving an export in a spreadsheet rewrites them.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from mentoring.models import Mentee, Mentor
from mentoring.pseudonyms import line_manager_key, mentee_key, mentor_key, username_key
from programmes import audit
from programmes.models import AuditEvent, Programme

from .instruments import freeze
from .models import (
    Audience,
    InstrumentVersion,
    Question,
    ResponseImport,
    SurveyInvitation,
    SurveyResponse,
)
from .question_forms import TEXT_MAX_LENGTH, choice_pairs

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# Each column gets its own choice on the column matching page, which must stay within
# the number of fields Django accepts in one submission (1,000) and render quickly.
MAX_COLUMNS = 300
# Mapping targets besides question codes.
IGNORE = ""
SHARED = "__shared__"

YES = {"yes", "y", "true", "1", "shared", "share"}
NO = {"no", "n", "false", "0", "not shared", "confidential", ""}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says what to do."""


class AnswerError(ValueError):
    """One answer does not fit its question; the message says why, in plain words."""


# --- Reading the file ---------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text. Accepts UTF-8 with or without the byte order mark."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            "The file is larger than 2 MB. Split it into smaller files and import them "
            "one after another."
        )
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "The file is an Excel workbook, not a CSV file. Open it in Excel, choose "
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


@dataclass(frozen=True)
class CsvFile:
    header: list[str]
    # (line, cells) for each row with any content. The header is line 1 and each row
    # is one line, as a spreadsheet numbers them, even when a cell holds line breaks.
    rows: list[tuple[int, list[str]]]


def read_csv(text: str) -> CsvFile:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportFileError("The file is empty. Its first row must name the columns.")
        header = [cell.strip().lstrip("\ufeff").strip() for cell in header]
        if len(header) > MAX_COLUMNS:
            raise ImportFileError(
                f"The file has {len(header):,} columns; a survey export has at most "
                f"{MAX_COLUMNS}. Check it is the export of this survey's responses."
            )
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise ImportFileError(
                    f"The file has more than {MAX_ROWS:,} rows. Split it into files of at "
                    f"most {MAX_ROWS:,} rows and import them one after another."
                )
            rows.append((line, cells))
    except csv.Error as error:
        raise ImportFileError(
            f"Line {reader.line_num} cannot be read as CSV ({error}). Check the file was "
            "saved as CSV UTF-8 (Comma delimited)."
        ) from None
    if not rows:
        raise ImportFileError("The file has a first row of column names but no responses.")
    return CsvFile(header=header, rows=rows)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Mapping columns to questions ---------------------------------------------------


def _words(value: str) -> str:
    return " ".join(value.split()).lower()


def _comparable(value: str) -> str:
    """Header text as compared with question text: case, spacing and end marks ignored."""
    return _words(value).rstrip(" ?:.*")


def questions_of(version: InstrumentVersion) -> list[Question]:
    return list(
        Question.objects.filter(section__version=version)
        .select_related("section")
        .order_by("section__position", "section_id", "position", "pk")
    )


def suggest_mapping(header: list[str], questions: Iterable[Question]) -> dict[int, str]:
    """Column index -> question code, for columns whose heading is a question's text
    (or its code), and SHARED for a column about sharing with the mentor. Each is
    suggested for one column only."""
    by_text: dict[str, list[str]] = {}
    for question in questions:
        by_text.setdefault(_comparable(question.text), []).append(question.code)
        by_text.setdefault(_comparable(question.code), []).append(question.code)
    taken: set[str] = set()
    mapping: dict[int, str] = {}
    for index, heading in enumerate(header):
        words = _comparable(heading)
        if "share" in words and "mentor" in words and SHARED not in taken:
            taken.add(SHARED)
            mapping[index] = SHARED
            continue
        for code in by_text.get(words, []):
            if code not in taken:
                taken.add(code)
                mapping[index] = code
                break
    return mapping


PERSON_HEADINGS = ("username", "user name", "your username", "name", "full name")
EMAIL_HEADINGS = ("email", "e-mail", "email address", "e-mail address", "work email")


def suggest_column(header: list[str], headings: tuple[str, ...]) -> int | None:
    """The column best matching ``headings`` (in their order of preference): the first
    heading exactly, then a heading containing it, then the others exactly. So a
    "Please enter your username" column wins over the "Name" column Microsoft Forms
    leaves blank on anonymous forms."""
    comparable = [_comparable(cell) for cell in header]
    first, *others = headings
    if first in comparable:
        return comparable.index(first)
    for index, cell in enumerate(comparable):
        if first in cell:
            return index
    for heading in others:
        if heading in comparable:
            return comparable.index(heading)
    return None


@dataclass(frozen=True)
class Mapping:
    # Column index -> question code, or SHARED for the "shared with mentor" column.
    columns: dict[int, str]
    person: int
    email: int | None = None

    def to_session(self) -> dict:
        return {
            "columns": {str(k): v for k, v in self.columns.items()},
            "person": self.person,
            "email": self.email,
        }

    @classmethod
    def from_session(cls, data: dict) -> Mapping:
        return cls(
            columns={int(k): v for k, v in data["columns"].items()},
            person=int(data["person"]),
            email=None if data.get("email") is None else int(data["email"]),
        )


# --- Checking answers ----------------------------------------------------------------


def options(question: Question) -> list[tuple[object, str]]:
    """(stored value, label) for each choice, as the survey form stores them: Likert
    answers are the numbers 1 to 5, lowest first; other choices their value."""
    pairs = choice_pairs(question)
    if question.kind == Question.Kind.LIKERT:
        return [(int(value), label) for value, label in pairs]
    return pairs


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= 40 else value[:39] + "…"


def _pick(question: Question, value: str) -> object:
    wanted = _words(value)
    for stored, label in options(question):
        if wanted in (_words(str(stored)), _words(label)):
            return stored
    raise AnswerError(f'"{_shown(value)}" is not one of the choices')


def parse_date(value: str) -> datetime.date | None:
    """A date written DD/MM/YYYY (as UK spreadsheets write it) or YYYY-MM-DD."""
    value = value.strip()
    # Some tools add a time to date answers; the time means nothing here.
    value = re.split(r"[ T]", value, maxsplit=1)[0]
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, date_format).date()
        except ValueError:
            continue
    return None


def clean_answer(question: Question, raw: str) -> object:
    """The value stored for one cell, as the survey form stores it; raises AnswerError.

    A blank cell gives ``None`` (an unanswered question, refused when required).
    """
    value = raw.strip()
    if not value:
        if question.required:
            raise AnswerError("This question must be answered")
        return None
    kind = question.kind
    if kind == Question.Kind.LIKERT:
        if value in {"1", "2", "3", "4", "5"}:
            return int(value)
        return _pick(question, value)
    if kind == Question.Kind.SINGLE:
        return _pick(question, value)
    if kind == Question.Kind.MULTIPLE:
        # Microsoft Forms separates the choices ticked with semicolons (and ends with one).
        picked = []
        for part in value.split(";"):
            if part.strip():
                choice = _pick(question, part)
                if choice not in picked:
                    picked.append(choice)
        if not picked and question.required:
            raise AnswerError("This question must be answered")
        return picked or None
    if kind == Question.Kind.NUMBER:
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise AnswerError(f'"{_shown(value)}" is not a number') from None
        if number != number.to_integral_value():
            raise AnswerError(f'"{_shown(value)}" is not a whole number')
        number = int(number)
        if question.min_value is not None and number < question.min_value:
            raise AnswerError(f"The number must be {question.min_value} or more")
        if question.max_value is not None and number > question.max_value:
            raise AnswerError(f"The number must be {question.max_value} or less")
        return number
    if kind == Question.Kind.DATE:
        date = parse_date(value)
        if date is None:
            raise AnswerError(f'"{_shown(value)}" is not a real date. Use DD/MM/YYYY or YYYY-MM-DD')
        return date.isoformat()
    if len(value) > TEXT_MAX_LENGTH:
        raise AnswerError(f"The answer must be {TEXT_MAX_LENGTH:,} characters or fewer")
    return value


def clean_shared(raw: str) -> bool:
    value = _words(raw)
    if value in YES:
        return True
    if value in NO:
        return False
    raise AnswerError(f'"{_shown(raw)}" is not yes or no')


# --- Checking every row --------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass(frozen=True)
class Row:
    line: int
    person: str
    email: str
    answers: dict
    shared: bool
    key: str


@dataclass
class Checked:
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Rows that repeat an earlier row of the same file: imported once.
    repeated: list[int] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})


def import_key(programme_id: int, wave: str, person: str, email: str, answers: dict) -> str:
    """A SHA-256 of the programme, the wave and the normalised row."""
    normalised = json.dumps(
        [programme_id, wave, _words(person), email.strip().lower(), answers],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(normalised.encode()).hexdigest()


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def check_rows(
    csv_file: CsvFile,
    mapping: Mapping,
    questions: list[Question],
    *,
    programme_id: int,
    wave: str,
) -> Checked:
    """Check every row and return the rows to import or every problem, by line."""
    by_code = {question.code: question for question in questions}
    header = csv_file.header
    width = len(header)
    checked = Checked()
    seen: dict[str, int] = {}

    def heading(index: int) -> str:
        return header[index] if index < width else f"column {index + 1}"

    for line, cells in csv_file.rows:
        errors: list[RowError] = []
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            checked.errors.append(
                RowError(line, "", "This row has more cells than the first row has columns")
            )
            continue

        person = " ".join(_cell(cells, mapping.person).split())
        if not person:
            errors.append(RowError(line, heading(mapping.person), "The username is blank"))
        elif len(person) > 200:
            errors.append(
                RowError(
                    line, heading(mapping.person), "The username must be 200 characters or fewer"
                )
            )
        email = _cell(cells, mapping.email).lower()
        answers: dict = {}
        shared = False
        for index, target in sorted(mapping.columns.items()):
            try:
                if target == SHARED:
                    shared = clean_shared(_cell(cells, index))
                    continue
                value = clean_answer(by_code[target], _cell(cells, index))
            except AnswerError as problem:
                errors.append(RowError(line, heading(index), str(problem)))
                continue
            if value is not None:
                answers[target] = value
        if errors:
            checked.errors.extend(errors)
            continue
        key = import_key(programme_id, wave, person, email, answers)
        if key in seen:
            checked.repeated.append(line)
            continue
        seen[key] = line
        checked.rows.append(
            Row(line=line, person=person, email=email, answers=answers, shared=shared, key=key)
        )
    return checked


# --- Who each row is -------------------------------------------------------------------


class People:
    """Finds the programme's record for a row's name or e-mail, in two queries in all."""

    def __init__(self, programme: Programme, audience: str):
        self.programme = programme
        self.organisation = programme.organisation
        self.audience = audience
        self.by_email: dict[str, object] = {}
        self.by_name: dict[str, list[object]] = {}
        if audience == Audience.MENTEE:
            for mentee in Mentee.objects.filter(programme=programme).select_related(
                "programme__organisation"
            ):
                self._add(mentee, mentee.email, mentee.full_name)
        elif audience == Audience.MENTOR:
            for mentor in Mentor.objects.filter(programme=programme).select_related(
                "user", "programme__organisation"
            ):
                self._add(mentor, mentor.user.email, mentor.user.full_name)

    def _add(self, record, email: str, name: str) -> None:
        self.by_email[email.strip().lower()] = record
        self.by_name.setdefault(_words(name), []).append(record)

    def record_for(self, person: str, email: str):
        for address in (email, person.lower()):
            if "@" in address and address in self.by_email:
                return self.by_email[address]
        named = self.by_name.get(_words(person), [])
        return named[0] if len(named) == 1 else None

    def pseudonym(self, person: str, email: str) -> tuple[str, bool]:
        """(pseudonym, whether it came from a programme record)."""
        record = self.record_for(person, email)
        if isinstance(record, Mentee):
            return mentee_key(record), True
        if isinstance(record, Mentor):
            return mentor_key(record), True
        if self.audience == Audience.LINE_MANAGER:
            address = email if "@" in email else person.lower() if "@" in person else ""
            if address:
                return line_manager_key(self.organisation, address), True
        return username_key(self.organisation, person), False


# --- Writing ------------------------------------------------------------------------------


def already_imported(programme: Programme, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(
            SurveyResponse.objects.filter(
                programme=programme, import_key__in=keys[start : start + 500]
            ).values_list("import_key", flat=True)
        )
    return found


@dataclass(frozen=True)
class Summary:
    to_add: int
    already: int
    repeated: int
    matched: int


def summarise(programme: Programme, audience: str, checked: Checked) -> Summary:
    present = already_imported(programme, (row.key for row in checked.rows))
    people = People(programme, audience)
    new_rows = [row for row in checked.rows if row.key not in present]
    return Summary(
        to_add=len(new_rows),
        already=len(checked.rows) - len(new_rows),
        repeated=len(checked.repeated),
        matched=sum(1 for row in new_rows if people.record_for(row.person, row.email)),
    )


@transaction.atomic
def import_responses(
    programme: Programme,
    version: InstrumentVersion,
    wave: str,
    checked: Checked,
    *,
    file_name: str,
    file_sha256: str,
    actor,
    path: str = "",
) -> ResponseImport:
    """Add the checked rows not imported before, link each to the person's open
    invitation for the wave (completing it), and record the import."""
    if not checked.is_valid:
        raise ValueError("Only a file with no problems can be imported.")
    now = timezone.now()
    present = already_imported(programme, (row.key for row in checked.rows))
    new_rows = [row for row in checked.rows if row.key not in present]
    people = People(programme, version.instrument.audience)
    pseudonyms = {row.key: people.pseudonym(row.person, row.email)[0] for row in new_rows}

    # Claim the open invitations of these people for this wave. A one-table locking
    # read: once it returns, no online submit can complete these invitations.
    with scopes_disabled():
        open_invitations = list(
            SurveyInvitation.objects.select_for_update()
            .filter(
                programme_id=programme.pk,
                wave=wave,
                completed_at__isnull=True,
                pseudonym__in=set(pseudonyms.values()),
            )
            .order_by("pk")
        )
        started = {
            response.invitation_id: response
            for response in SurveyResponse.objects.filter(
                invitation_id__in=[invitation.pk for invitation in open_invitations]
            )
        }
    waiting: dict[str, SurveyInvitation] = {}
    for invitation in open_invitations:
        response = started.get(invitation.pk)
        if response is not None and response.submitted_at is not None:
            continue
        waiting.setdefault(invitation.pseudonym, invitation)

    to_create: list[SurveyResponse] = []
    to_fill: list[SurveyResponse] = []
    completed: list[int] = []
    for row in new_rows:
        pseudonym = pseudonyms[row.key]
        invitation = waiting.pop(pseudonym, None)
        response = started.get(invitation.pk) if invitation else None
        if response is None:
            response = SurveyResponse(programme=programme, invitation=invitation)
            to_create.append(response)
        else:
            to_fill.append(response)
        response.version = version
        response.wave = wave
        response.pseudonym = pseudonym
        response.answers = row.answers
        response.shared_with_mentor = row.shared
        response.channel = SurveyInvitation.Channel.IMPORT
        response.entered_by = actor
        response.import_key = row.key
        response.submitted_at = now
        if invitation is not None:
            completed.append(invitation.pk)

    SurveyResponse.objects.bulk_create(to_create, batch_size=500)
    if to_fill:
        SurveyResponse.objects.bulk_update(
            to_fill,
            [
                "version",
                "wave",
                "pseudonym",
                "answers",
                "shared_with_mentor",
                "channel",
                "entered_by",
                "import_key",
                "submitted_at",
            ],
        )
    with scopes_disabled():
        if completed:
            SurveyInvitation.objects.filter(pk__in=completed, completed_at__isnull=True).update(
                completed_at=now
            )
    if new_rows:
        freeze(version)
    record = ResponseImport.objects.create(
        programme=programme,
        version=version,
        wave=wave,
        file_name=file_name[:200],
        file_sha256=file_sha256,
        rows_imported=len(new_rows),
        rows_skipped=len(checked.rows) - len(new_rows) + len(checked.repeated),
        imported_by=actor,
    )
    # Counts and question codes only: no names, no answers.
    audit.record(
        organisation=programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=record,
        label=(
            f"{record.rows_imported} responses imported for the {wave} wave, "
            f"{record.rows_skipped} already present, {len(completed)} invitations completed"
        ),
        fields=sorted({code for row in new_rows for code in row.answers}),
        path=path,
    )
    return record
