"""Every CSV import with hostile files: mentors and mentees, survey responses,
organisational metrics and comparison group members.

Each file starts as the import's own valid example (tests/fixtures/) and is bent:
cells replaced with formulas, scripts, SQL, control characters, NULs, huge text and
the other organisation's ODS codes and addresses; header names duplicated; thousands
of columns added; saved in the wrong encoding; or replaced by random bytes. The
upload step must save nothing; every later step the pages offer (the column
matching, the preview's confirmation) is then taken as a person would take it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ..url_cases.evaluation_metrics import group
from ..url_cases.surveys_responses import schedule_wave, starter_version
from .hostile import (
    CONTROL,
    FORMULAS,
    FUZZ,
    LONG,
    SCRIPT,
    SQL,
    UNICODE,
    Form,
    Guard,
    check_submission,
    foreign_objects,
    in_rollback,
    plausible_submission,
    post_forms,
    submit,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "fixtures"
FOREIGN_CELLS = ("FRN", "frn", "foreign.mentee@other.test", "admin@other.test")
CELLS = (
    *FORMULAS,
    SCRIPT,
    f'"><img src=x onerror={SCRIPT}>',
    *SQL,
    *CONTROL,
    *UNICODE,
    *LONG,
    *FOREIGN_CELLS,
    "\x00\x00\x00",
    '"unclosed quote',
    "a\nb\rc",
    "",
)
# A file has more ways to go wrong than a form field: more examples.
FILES = settings(FUZZ, max_examples=12)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")


def _rows(fixture: str) -> list[list[str]]:
    text = (FIXTURES / fixture).read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


@st.composite
def hostile_csv(draw, fixture: str) -> tuple[str, bytes]:
    """The fixture, bent in the ways a spreadsheet or an attacker might bend it."""
    if draw(st.integers(0, 7)) == 0:
        return ("random.csv", draw(st.binary(max_size=3000)))
    rows = [list(row) for row in _rows(fixture)]
    width = len(rows[0])
    for _ in range(draw(st.integers(0, 6))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, width - 1))
        rows[row] += [""] * (width - len(rows[row]))
        rows[row][column] = draw(st.one_of(st.sampled_from(CELLS), st.text(max_size=30)))
    if draw(st.booleans()):
        rows[0].append(rows[0][draw(st.integers(0, width - 1))])  # a header name twice
    if draw(st.integers(0, 5)) == 0:
        rows = [row + [f"c{i}" for i in range(3000)] for row in rows]
    elif draw(st.integers(0, 5)) == 0:
        rows = rows[:1] + rows[1:] * 300  # many rows, every address repeated
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    encoding = draw(st.one_of(st.just("utf-8"), st.sampled_from(ENCODINGS)))
    return (f"{fixture}", out.getvalue().encode(encoding, errors="replace"))


def as_given(fixture: str) -> tuple[str, bytes]:
    return (fixture, (FIXTURES / fixture).read_bytes())


def with_scripts_in_names(fixture: str) -> tuple[str, bytes]:
    """The valid file with a script in every cell of each column that holds a name."""
    rows = _rows(fixture)
    named = [i for i, heading in enumerate(rows[0]) if "name" in heading.lower()]
    for row in rows[1:]:
        for i in named:
            if i < len(row):
                row[i] = f"{row[i]} {SCRIPT}"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return (fixture, out.getvalue().encode())


def _with_file(form: Form, pairs: list, upload: tuple[str, bytes], chosen: dict) -> list:
    """The careful submission, with the file and the choices this import needs."""
    kept = [(n, v) for n, v in pairs if n not in chosen and not isinstance(v, tuple)]
    files = [(f.name, upload) for f in form.fields if f.kind == "file"]
    return kept + [(n, str(v)) for n, v in chosen.items()] + files


def fuzz_import(client, cast, url: str, fixture: str, chosen: dict) -> int:
    """Upload hostile files and take every step the pages offer; how many were checked."""
    page = client.get(url)
    assert page.status_code == 200, url
    [upload_form] = [
        f
        for f in post_forms(page.content.decode(), f"http://testserver{url}")
        if any(field.kind == "file" for field in f.fields)
    ]
    with scopes_disabled():
        guard = Guard(foreign_objects(cast.other_org))
    checked = 0

    @FILES
    @example(as_given(fixture))
    @example(with_scripts_in_names(fixture))
    @given(hostile_csv(fixture))
    def upload(file):
        nonlocal checked

        def steps():
            nonlocal checked
            before = guard.snapshot()
            pairs = _with_file(upload_form, plausible_submission(upload_form), file, chosen)
            response = submit(client, upload_form, pairs)
            after = guard.snapshot()
            check_submission(guard, before, response, after, f"{url} with {file[0]}")
            # Nothing is saved by uploading: only by confirming what the preview showed.
            saved = [c for c in guard.changes(before, after) if "AuditEvent" not in c]
            assert not saved, f"{url}: the upload alone saved {saved}"
            checked += 1
            for _ in range(3):
                step_url = response.request["PATH_INFO"]
                forms = [
                    f
                    for f in post_forms(response.content.decode(), f"http://testserver{step_url}")
                    if not any(field.kind == "file" for field in f.fields)
                ]
                # The import ends where the pages leave its own steps.
                if response.status_code != 200 or not forms or not step_url.startswith(url):
                    break
                before = guard.snapshot()
                response = submit(client, forms[-1], plausible_submission(forms[-1]))
                check_submission(guard, before, response, guard.snapshot(), f"{url} next step")
                checked += 1

        in_rollback(steps)

    upload()
    return checked


def test_mentee_and_mentor_imports_take_hostile_files_calmly(client, cast):
    client.force_login(cast.owner)
    url = reverse("mentoring:import_upload", args=[cast.org.slug])
    programme = {"programme": cast.programme.pk}
    mentees = fuzz_import(client, cast, url, "mentees_valid.csv", programme | {"kind": "mentees"})
    mentors = fuzz_import(client, cast, url, "mentors_valid.csv", programme | {"kind": "mentors"})
    assert mentees > 1 and mentors > 1


def test_survey_response_import_takes_hostile_files_calmly(client, cast):
    version = starter_version(cast.programme)
    schedule_wave(cast.programme, version)
    client.force_login(cast.owner)
    checked = fuzz_import(
        client,
        cast,
        reverse("surveys:import_upload", args=[cast.org.slug]),
        "ms_forms_starter.csv",
        {"programme": cast.programme.pk, "wave": "starter", "version": version.pk},
    )
    assert checked > 1


def test_organisational_metrics_import_takes_hostile_files_calmly(client, cast):
    client.force_login(cast.owner)
    url = reverse(
        "evaluation:metrics_import",
        kwargs={"organisation_slug": cast.org.slug, "programme_pk": cast.programme.pk},
    )
    assert fuzz_import(client, cast, url, "metrics_valid.csv", {}) > 1


def test_comparison_group_import_takes_hostile_files_calmly(client, cast):
    client.force_login(cast.owner)
    url = reverse(
        "evaluation:comparison_import",
        kwargs={"organisation_slug": cast.org.slug, **group(cast, "home")},
    )
    assert fuzz_import(client, cast, url, "comparison_valid.csv", {}) > 1


def test_survey_response_file_with_thousands_of_columns_is_refused_at_upload(client, cast):
    """One choice per column would make a page too large to show and too large to send."""
    version = starter_version(cast.programme)
    schedule_wave(cast.programme, version)
    client.force_login(cast.owner)
    header = ",".join(f"Question {i}" for i in range(3000))
    upload = SimpleUploadedFile("wide.csv", f"{header}\n{'1,' * 2999}1\n".encode())
    response = client.post(
        reverse("surveys:import_upload", args=[cast.org.slug]),
        {"programme": cast.programme.pk, "wave": "starter", "version": version.pk, "file": upload},
    )
    assert response.status_code == 200
    assert "The file has 3,000 columns" in response.content.decode()
    assert f"surveys.import.{cast.org.pk}" not in client.session
