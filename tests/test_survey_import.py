"""Importing survey responses from a Microsoft Forms CSV export: reading, matching the
columns, checking every row, importing once, and linking to invitations."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from mentoring.pseudonyms import mentee_key, username_key
from programmes.models import AuditEvent
from surveys import imports
from surveys.imports import SHARED, AnswerError, ImportFileError, Mapping
from surveys.models import (
    InstrumentVersion,
    Question,
    ResponseImport,
    SurveyInvitation,
    SurveyResponse,
)

from .factories import MenteeFactory
from .url_cases.surveys_responses import invitation_for, schedule_wave, starter_version

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
VALID = "ms_forms_starter.csv"
LATER = "ms_forms_starter_later.csv"
BAD = "ms_forms_starter_bad.csv"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def starter(cast):
    version = starter_version(cast.programme)
    schedule_wave(cast.programme, version, "starter")
    return version


def questions(version) -> list[Question]:
    with scope(organisation=version.instrument.programme.organisation):
        return imports.questions_of(version)


def question(kind, *, required=True, choices=(), min_value=None, max_value=None) -> Question:
    return Question(
        code="q",
        text="Q?",
        kind=kind,
        required=required,
        choices=list(choices),
        min_value=min_value,
        max_value=max_value,
    )


LIKERT = question(
    Question.Kind.LIKERT,
    choices=[
        {"value": str(n), "label": label}
        for n, label in enumerate(
            ["Very poor", "Poor", "Fair", "Good", "Very good"],
            start=1,
        )
    ],
)
SINGLE = question(
    Question.Kind.SINGLE,
    choices=[{"value": "yes", "label": "Yes"}, {"value": "not_sure", "label": "Not sure"}],
)
MULTIPLE = question(
    Question.Kind.MULTIPLE,
    required=False,
    choices=[
        {"value": "mdt", "label": "The MDT"},
        {"value": "time", "label": "Time, and workload"},
    ],
)


# --- Answers, cell by cell (no database) -------------------------------------------------


def test_likert_answer_may_be_its_label_in_any_case_or_its_number():
    assert imports.clean_answer(LIKERT, "Very good") == 5
    assert imports.clean_answer(LIKERT, "  fair ") == 3
    assert imports.clean_answer(LIKERT, "2") == 2


def test_likert_answer_outside_the_scale_is_refused():
    for value in ("Excellent", "6", "0"):
        with pytest.raises(AnswerError, match="not one of the choices"):
            imports.clean_answer(LIKERT, value)


def test_choice_answer_may_be_its_label_or_its_value():
    assert imports.clean_answer(SINGLE, "Not sure") == "not_sure"
    assert imports.clean_answer(SINGLE, "not_sure") == "not_sure"
    with pytest.raises(AnswerError):
        imports.clean_answer(SINGLE, "Maybe")


def test_multiple_choice_reads_microsoft_forms_semicolons_and_keeps_commas_in_labels():
    assert imports.clean_answer(MULTIPLE, "Time, and workload;The MDT;") == ["time", "mdt"]
    assert imports.clean_answer(MULTIPLE, "") is None


def test_numbers_must_be_whole_and_within_the_questions_range():
    number = question(Question.Kind.NUMBER, min_value=0, max_value=60)
    assert imports.clean_answer(number, "12") == 12
    assert imports.clean_answer(number, "12.0") == 12
    for value, message in (("6.5", "whole number"), ("six", "not a number"), ("61", "60 or less")):
        with pytest.raises(AnswerError, match=message):
            imports.clean_answer(number, value)


def test_dates_in_uk_or_iso_form_are_stored_as_iso_and_impossible_dates_are_refused():
    date = question(Question.Kind.DATE)
    assert imports.clean_answer(date, "14/03/2025") == "2025-03-14"
    assert imports.clean_answer(date, "2025-03-14") == "2025-03-14"
    with pytest.raises(AnswerError, match="not a real date"):
        imports.clean_answer(date, "31/02/2025")


def test_blank_required_answer_is_refused_and_blank_optional_answer_is_left_out():
    with pytest.raises(AnswerError, match="must be answered"):
        imports.clean_answer(SINGLE, "  ")
    assert imports.clean_answer(question(Question.Kind.TEXT, required=False), "") is None


def test_shared_column_reads_yes_and_no():
    assert imports.clean_shared("Yes") is True
    assert imports.clean_shared("") is False
    with pytest.raises(AnswerError, match="not yes or no"):
        imports.clean_shared("perhaps")


# --- Reading the file ------------------------------------------------------------------------


def test_byte_order_mark_is_not_part_of_the_first_heading():
    csv_file = imports.read_csv(imports.decode(fixture_bytes(VALID)))
    assert fixture_bytes(VALID).startswith(b"\xef\xbb\xbf")
    assert csv_file.header[0] == "ID"


def test_line_numbers_count_rows_as_a_spreadsheet_does_even_with_line_breaks_in_a_cell():
    csv_file = imports.read_csv(imports.decode(fixture_bytes(LATER)))
    assert [line for line, _ in csv_file.rows] == [2, 3, 4, 5]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"PK\x03\x04workbook", "Excel workbook"),
        ("Name,Q\nZoë,1\n".encode("utf-16"), "not saved as UTF-8"),
        (b"", "empty"),
        (b"Name,Q\n", "no responses"),
        (b"x" * (imports.MAX_FILE_BYTES + 1), "larger than 2 MB"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(data, message):
    with pytest.raises(ImportFileError, match=message):
        imports.read_csv(imports.decode(data))


def test_more_than_five_thousand_rows_is_refused():
    text = "Name,Q\n" + "a,1\n" * (imports.MAX_ROWS + 1)
    with pytest.raises(ImportFileError, match="more than 5,000 rows"):
        imports.read_csv(text)


def test_columns_are_matched_by_question_text_ignoring_case(cast, starter):
    header = [
        "ID",
        "Name",
        "Please enter your username",
        "HOW CONFIDENT DO YOU FEEL IN YOUR CURRENT ROLE",
        "Share my answers with my mentor",
        "Email",
    ]
    mapping = imports.suggest_mapping(header, questions(starter))
    assert mapping == {3: "confidence_role", 4: SHARED}
    assert imports.suggest_column(header, imports.PERSON_HEADINGS) == 2
    assert imports.suggest_column(header, imports.EMAIL_HEADINGS) == 5


# --- The pages ------------------------------------------------------------------------------


def upload(client, cast, version, name=VALID, data=None, wave="starter"):
    return client.post(
        reverse("surveys:import_upload", args=[cast.org.slug]),
        {
            "programme": cast.programme.pk,
            "wave": wave,
            "version": version.pk,
            "file": SimpleUploadedFile(name, data if data is not None else fixture_bytes(name)),
        },
    )


def initial_mapping(client, cast) -> dict:
    """The column choices the matching page suggests, as the form would post them."""
    response = client.get(reverse("surveys:import_map", args=[cast.org.slug]))
    assert response.status_code == 200
    form = response.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        data[name] = "" if value is None else str(value)
    return data


def upload_and_map(client, cast, version, name=VALID, **changes):
    assert upload(client, cast, version, name).status_code == 302
    data = initial_mapping(client, cast) | changes
    response = client.post(reverse("surveys:import_map", args=[cast.org.slug]), data)
    assert response.status_code == 302, response.context["form"].errors
    return client.get(reverse("surveys:import_preview", args=[cast.org.slug]))


def confirm(client, cast):
    return client.post(reverse("surveys:import_preview", args=[cast.org.slug]))


def responses(cast):
    with scope(organisation=cast.org):
        return list(SurveyResponse.objects.filter(programme=cast.programme).order_by("pk"))


def test_microsoft_forms_export_with_byte_order_mark_imports_every_row(client, cast, starter):
    client.force_login(cast.owner)
    preview = upload_and_map(client, cast, starter)
    assert preview.context["checked"].errors == []
    summary = preview.context["summary"]
    assert (summary.to_add, summary.already, summary.matched) == (3, 0, 2)

    response = confirm(client, cast)
    assert response.status_code == 302
    saved = responses(cast)
    assert len(saved) == 3
    first, second, third = saved
    assert first.channel == SurveyInvitation.Channel.IMPORT
    assert first.entered_by == cast.owner
    assert first.submitted_at is not None
    assert first.wave == "starter"
    assert first.answers["confidence_role"] == 2  # "Slightly confident"
    assert first.answers["belonging"] == 4  # "Agree"
    assert first.answers["role_started_on"] == "2025-01-14"
    assert first.answers["mentoring_themes"] == ["workload", "supervision"]
    assert first.shared_with_mentor is True
    assert second.shared_with_mentor is False
    assert second.answers["goals_for_mentoring"].startswith("Line one")
    assert "mentoring_themes" not in second.answers
    assert third.answers["job_satisfaction"] == 5  # "Very satisfied"
    assert third.answers["mentoring_themes"] == ["workload"]


def test_rows_are_keyed_by_the_mentees_pseudonym_or_else_the_username(client, cast, starter):
    client.force_login(cast.owner)
    upload_and_map(client, cast, starter)
    confirm(client, cast)
    first, second, third = responses(cast)
    with scopes_disabled():
        # "home mentee" matches Home Mentee's full name whatever the case.
        assert first.pseudonym == mentee_key(cast.mentee_record)
        # The e-mail column matches Coastal Mentee's address.
        assert second.pseudonym == mentee_key(cast.mentee_other_trust)
        # Nobody in the programme: keyed by the username, the same in every wave.
        assert third.pseudonym == username_key(cast.org, "orla  NETHERBY")


def test_same_file_twice_adds_nothing(client, cast, starter):
    client.force_login(cast.owner)
    upload_and_map(client, cast, starter)
    confirm(client, cast)
    preview = upload_and_map(client, cast, starter)
    summary = preview.context["summary"]
    assert (summary.to_add, summary.already) == (0, 3)
    assert "There is nothing to add" in preview.content.decode()
    confirm(client, cast)
    assert len(responses(cast)) == 3
    with scopes_disabled():
        counts = ResponseImport.objects.order_by("pk").values_list("rows_imported", "rows_skipped")
        assert list(counts) == [(3, 0), (0, 3)]


def test_a_later_export_repeating_earlier_rows_adds_only_the_new_one(client, cast, starter):
    client.force_login(cast.owner)
    upload_and_map(client, cast, starter)
    confirm(client, cast)
    preview = upload_and_map(client, cast, starter, name=LATER)
    assert (preview.context["summary"].to_add, preview.context["summary"].already) == (1, 3)
    confirm(client, cast)
    assert len(responses(cast)) == 4
    with scopes_disabled():
        latest = ResponseImport.objects.filter(programme=cast.programme).first()
        assert (latest.file_name, latest.rows_imported, latest.rows_skipped) == (LATER, 1, 3)


def test_file_with_three_bad_rows_lists_all_three_lines_and_imports_nothing(client, cast, starter):
    client.force_login(cast.owner)
    preview = upload_and_map(client, cast, starter, name=BAD)
    checked = preview.context["checked"]
    assert checked.bad_lines == [3, 5, 6]
    problems = {(e.line, e.message) for e in checked.errors}
    assert (3, '"Fairly confident" is not one of the choices') in problems
    assert (5, '"31/02/2025" is not a real date. Use DD/MM/YYYY or YYYY-MM-DD') in problems
    assert (6, "The username is blank") in problems
    assert (6, '"six" is not a number') in problems
    page = preview.content.decode()
    assert "3 rows of ms_forms_starter_bad.csv have problems" in page
    assert "Nothing has been imported" in page

    response = confirm(client, cast)
    assert response.status_code == 200
    assert responses(cast) == []
    with scopes_disabled():
        assert not ResponseImport.objects.exists()


def test_open_invitation_is_linked_and_completed_and_a_completed_one_is_left(client, cast, starter):
    open_one = invitation_for(cast.mentee_record)
    done = invitation_for(cast.mentee_other_trust)
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=done.pk).update(completed_at="2025-01-01T10:00Z")
    client.force_login(cast.owner)
    upload_and_map(client, cast, starter)
    confirm(client, cast)
    first, second, _ = responses(cast)
    assert first.invitation_id == open_one.pk
    assert second.invitation_id is None
    with scopes_disabled():
        open_one.refresh_from_db()
        assert open_one.completed_at is not None


def test_response_started_online_becomes_the_imported_one(client, cast, starter):
    invitation = invitation_for(cast.mentee_record)
    with scopes_disabled():
        started = SurveyResponse.objects.create(
            programme=cast.programme,
            invitation=invitation,
            version=starter,
            wave="starter",
            pseudonym=invitation.pseudonym,
            answers={"confidence_role": 5},
        )
    client.force_login(cast.owner)
    upload_and_map(client, cast, starter)
    confirm(client, cast)
    saved = responses(cast)
    assert len(saved) == 3
    assert saved[0].pk == started.pk
    assert saved[0].answers["confidence_role"] == 2
    assert saved[0].channel == SurveyInvitation.Channel.IMPORT


def test_import_records_the_file_freezes_the_version_audits_codes_only_and_drops_the_file(
    client, cast, starter
):
    client.force_login(cast.owner)
    upload_and_map(client, cast, starter)
    confirm(client, cast)
    with scopes_disabled():
        record = ResponseImport.objects.get(programme=cast.programme)
        assert record.file_name == VALID
        assert record.file_sha256 == imports.file_sha256(fixture_bytes(VALID))
        assert (record.rows_imported, record.imported_by) == (3, cast.owner)
        assert InstrumentVersion.objects.get(pk=starter.pk).frozen_at is not None
        event = AuditEvent.objects.get(object_type="responseimport")
    assert "confidence_role" in event.fields
    assert "Netherby" not in event.object_label and "home mentee" not in event.object_label
    stored = client.session[f"surveys.import.{cast.org.pk}"]
    assert "data" not in stored
    # With the file gone, the later steps go back to the upload.
    response = client.get(reverse("surveys:import_preview", args=[cast.org.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:import_upload", args=[cast.org.slug])


def test_upload_refuses_a_version_of_another_programmes_survey(client, cast, starter):
    from .factories import ProgrammeFactory

    second = ProgrammeFactory(organisation=cast.org, name="Second programme")
    other_version = starter_version(second)
    client.force_login(cast.owner)
    response = upload(client, cast, other_version)
    assert response.status_code == 200
    assert "Choose a survey of Home Legacy Mentoring" in response.content.decode()


def test_upload_refuses_a_wave_the_programmes_schedule_lacks_or_a_workbook(client, cast, starter):
    from .factories import ProgrammeFactory

    second = ProgrammeFactory(organisation=cast.org, name="Second programme")
    schedule_wave(second, starter_version(second), "closure")
    client.force_login(cast.owner)
    response = upload(client, cast, starter, wave="closure")
    assert "schedule has no Closure wave" in response.content.decode()
    response = upload(client, cast, starter, data=b"PK\x03\x04rest")
    assert "Excel workbook" in response.content.decode()


def test_column_matching_refuses_a_question_twice_and_a_required_question_missing(
    client, cast, starter
):
    client.force_login(cast.owner)
    upload(client, cast, starter)
    data = initial_mapping(client, cast)
    data["col_0"] = "confidence_role"  # the ID column, and confidence is matched already
    data["col_6"] = ""  # "When did you start in your current role?" (required)
    response = client.post(reverse("surveys:import_map", args=[cast.org.slug]), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already matched to confidence_role" in errors["col_9"][0]
    assert any("role_started_on" in message for message in errors["__all__"])


def test_corrected_file_with_the_same_columns_keeps_the_columns_matched(client, cast, starter):
    client.force_login(cast.owner)
    upload_and_map(client, cast, starter, name=BAD, col_0=SHARED, col_20="")
    upload(client, cast, starter, name=VALID)
    data = initial_mapping(client, cast)
    assert (data["col_0"], data["col_20"]) == (SHARED, "")


def test_import_needs_the_same_number_of_queries_for_many_rows(cast, starter):
    header = "Username,How confident do you feel in your current role?\n"
    programme = cast.programme
    for number in range(30):
        MenteeFactory(programme=programme, trust=cast.trust, full_name=f"Named Person {number}")

    def run(count: int, wave: str) -> int:
        text = header + "".join(f"Named Person {n},{1 + n % 5}\n" for n in range(count))
        csv_file = imports.read_csv(text)
        with scope(organisation=cast.org):
            mapping = Mapping(columns={1: "confidence_role"}, person=0)
            optional = [q for q in imports.questions_of(starter) if q.code == "confidence_role"]
            checked = imports.check_rows(
                csv_file, mapping, optional, programme_id=programme.pk, wave=wave
            )
            with CaptureQueriesContext(connection) as queries:
                imports.import_responses(
                    programme,
                    starter,
                    wave,
                    checked,
                    file_name="f.csv",
                    file_sha256="0",
                    actor=None,
                )
        return len(queries)

    assert run(3, "starter") == run(30, "midpoint")


def test_demo_responses_cover_every_channel_and_seeding_twice_adds_nothing(capsys):
    from django.core.management import call_command

    from demo import surveys_responses
    from programmes.models import Programme

    call_command("seed_demo")
    with scopes_disabled():
        programme = Programme.objects.get(organisation__slug="wessex", name__contains="Pilot")
    surveys_responses.seed(programme)

    def counts():
        with scopes_disabled():
            return (
                sorted(
                    SurveyResponse.objects.filter(programme=programme).values_list(
                        "wave", "channel", "shared_with_mentor", "pseudonym"
                    )
                ),
                SurveyInvitation.objects.filter(programme=programme).count(),
                ResponseImport.objects.filter(programme=programme).count(),
            )

    first = counts()
    surveys_responses.seed(programme)
    assert counts() == first
    rows, _, import_count = first
    assert import_count == 1
    assert {wave for wave, *_ in rows} >= {"starter", "midpoint", "closure", "mentor_closure"}
    assert {channel for _, channel, *_ in rows} >= {"email", "qr", "paper", "import"}
    starters = [shared for wave, _, shared, _ in rows if wave == "starter"]
    assert set(starters) == {True, False}  # some shared with the mentor, some confidential
    with scopes_disabled():
        imported_for_a_mentee = SurveyResponse.objects.filter(
            programme=programme, channel="import", invitation__isnull=False
        )
        assert imported_for_a_mentee.exists()
        assert not SurveyResponse.objects.filter(programme=programme, submitted_at=None).exists()
