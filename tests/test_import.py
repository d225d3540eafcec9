"""Bulk CSV import of mentors and mentees: the parser, then upload, preview and confirm."""

import datetime
import re
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django_scopes import scope

from mentoring import imports
from mentoring.imports import MENTEES, MENTORS, ImportFileError, RowError
from mentoring.models import Mentee, Mentor
from programmes.models import AuditEvent, Membership, Role

from .factories import MentorFactory, UserFactory

FIXTURES = Path(__file__).parent / "fixtures"
TRUSTS = {"HGH": 1, "HCH": 2}
TODAY = datetime.date(2026, 3, 1)

MENTEE_HEADER = (
    "email,full_name,trust_ods_code,role_title,specialism,appointed_on,years_registered,band,"
    "line_manager_name,line_manager_email,identified_by,priority,priority_reason"
)
MENTOR_HEADER = (
    "email,full_name,trust_ods_code,profession,band,years_experience,specialisms,"
    "max_concurrent,max_per_year"
)


def mentee_row(email="kemi@home.test", **cells) -> str:
    values = {
        "email": email,
        "full_name": "Kemi Adeyemi",
        "trust_ods_code": "HGH",
        "role_title": "Lung cancer CNS",
        "specialism": "lung",
        "appointed_on": "2025-11-03",
        "years_registered": "6",
        "band": "7",
        "line_manager_name": "Rhian Jones",
        "line_manager_email": "rhian@home.test",
        "identified_by": "lead nurse",
        "priority": "high",
        "priority_reason": "Only CNS on site",
    }
    values.update(cells)
    return ",".join(values[name] for name in MENTEE_HEADER.split(","))


def parse_mentees(*rows, header=MENTEE_HEADER):
    return imports.parse(MENTEES, "\n".join([header, *rows]) + "\n", trusts=TRUSTS, today=TODAY)


def problems(result) -> list[tuple[int, str]]:
    return [(error.line, error.column) for error in result.errors]


# --- The parser (no database) ---------------------------------------------------------


def test_valid_mentee_file_gives_clean_rows_in_both_date_formats():
    result = imports.parse(
        MENTEES,
        imports.decode((FIXTURES / "mentees_valid.csv").read_bytes()),
        trusts=TRUSTS,
        today=TODAY,
    )
    assert result.errors == []
    assert result.is_valid
    first, second, third = result.rows
    assert first["appointed_on"] == datetime.date(2025, 11, 3)
    assert second["appointed_on"] == datetime.date(2026, 1, 14)
    assert (first["trust_id"], second["trust_id"]) == (1, 2)
    assert (first["priority"], second["priority"], third["priority"]) == (1, 2, None)
    assert [r["identified_by"] for r in result.rows] == [
        "lead_nurse",
        "line_manager",
        "self_referral",
    ]
    assert second["full_name"] == "Liam O'Connor"
    assert [r["line"] for r in result.rows] == [2, 3, 4]


def test_every_bad_row_is_reported_with_its_line_number():
    result = imports.parse(
        MENTEES,
        imports.decode((FIXTURES / "mentees_bad.csv").read_bytes()),
        trusts=TRUSTS,
        today=TODAY,
    )
    assert problems(result) == [
        (2, "email"),
        (3, "email"),
        (4, "trust_ods_code"),
        (5, "appointed_on"),
        (6, "years_registered"),
        (7, "identified_by"),
        (8, "priority"),
        # Line 10 is blank; line 11 repeats line 9's address in other capitals.
        (11, "email"),
    ]
    messages = [error.message for error in result.errors]
    assert messages[0] == "Enter the e-mail address"
    assert messages[1] == '"not-an-email" is not a valid e-mail address'
    assert messages[2] == 'No trust in this organisation has the ODS code "ZZZ"'
    assert messages[3] == '"31/02/2025" is not a real date. Use YYYY-MM-DD or DD/MM/YYYY'
    assert messages[4] == '"six" is not a whole number'
    assert "matron" in messages[5] and "lead nurse, line manager or self-referral" in messages[5]
    assert messages[6] == '"urgent" is not one of: high, medium or low'
    assert messages[7] == "good.one@home.test is also on line 9"
    assert not result.is_valid


def test_a_row_with_several_problems_reports_each_of_them():
    result = parse_mentees(
        mentee_row(email="bad", trust_ods_code="NOPE", appointed_on="2025/11/03", band="x" * 21)
    )
    assert problems(result) == [
        (2, "email"),
        (2, "trust_ods_code"),
        (2, "appointed_on"),
        (2, "band"),
    ]


def test_required_cells_must_be_filled():
    result = parse_mentees(
        mentee_row(
            full_name="", trust_ods_code="", role_title="", appointed_on="", identified_by=""
        )
    )
    assert problems(result) == [
        (2, "full_name"),
        (2, "trust_ods_code"),
        (2, "role_title"),
        (2, "appointed_on"),
        (2, "identified_by"),
    ]


def test_appointment_date_in_the_future_is_refused():
    result = parse_mentees(mentee_row(appointed_on="2026-03-02"))
    assert [e.message for e in result.errors] == ["The date appointed must be today or in the past"]


def test_missing_required_column_is_reported_on_line_one_and_rows_are_not_checked():
    header = MENTEE_HEADER.replace("trust_ods_code,", "").replace(",identified_by", "")
    result = parse_mentees("a,b,c", header=header)
    assert result.errors == [
        RowError(1, "trust_ods_code", 'The first row has no "trust_ods_code" column'),
        RowError(1, "identified_by", 'The first row has no "identified_by" column'),
    ]
    assert result.rows == []


def test_header_is_read_loosely_and_extra_columns_are_ignored():
    header = MENTEE_HEADER.replace("full_name", " Full Name ").upper() + ",notes"
    result = parse_mentees(mentee_row() + ",call after clinic", header=header)
    assert result.errors == []
    assert result.rows[0]["full_name"] == "Kemi Adeyemi"


def test_quoted_cells_with_commas_and_line_breaks_keep_line_numbers_true():
    row = mentee_row(priority_reason='"New to the MDT,\nand the only CNS on site"')
    result = parse_mentees(row, mentee_row(email="second@home.test", band="nine" * 6))
    assert result.rows[0]["priority_reason"] == "New to the MDT,\nand the only CNS on site"
    # The first record spans lines 2 and 3, so the second is on line 4.
    assert problems(result) == [(4, "band")]


def test_row_with_more_cells_than_columns_is_reported():
    result = parse_mentees(mentee_row() + ",surplus,cells")
    assert problems(result) == [(2, "")]


def test_bad_mentor_numbers_and_trusts_are_reported():
    text = "\n".join(
        [
            MENTOR_HEADER,
            "a@home.test,Ann,HGH,CNS,8a,thirty,lung,4,8",
            "b@home.test,Bea,XXX,CNS,8a,30,lung,four,-1",
            "c@home.test,Cal,,,,,,,",
        ]
    )
    result = imports.parse(MENTORS, text, trusts=TRUSTS, today=TODAY)
    assert problems(result) == [
        (2, "years_experience"),
        (3, "trust_ods_code"),
        (3, "max_concurrent"),
        (3, "max_per_year"),
    ]
    assert result.rows[0]["email"] == "c@home.test"
    assert result.rows[0]["trust_id"] is None


def test_utf8_with_excel_byte_order_mark_is_accepted():
    data = (
        "\ufeff" + MENTEE_HEADER + "\r\n" + mentee_row(full_name="Zoë Brontë") + "\r\n"
    ).encode()
    result = imports.parse(MENTEES, imports.decode(data), trusts=TRUSTS, today=TODAY)
    assert result.errors == []
    assert result.rows[0]["full_name"] == "Zoë Brontë"


def test_file_not_saved_as_utf8_is_refused_clearly():
    data = (MENTEE_HEADER + "\n" + mentee_row(full_name="Zoë Brontë") + "\n").encode("cp1252")
    with pytest.raises(ImportFileError, match="not saved as UTF-8"):
        imports.decode(data)


def test_excel_workbook_is_refused_clearly():
    with pytest.raises(ImportFileError, match="Excel workbook"):
        imports.decode(b"PK\x03\x04rest of a zip file")


def test_file_too_large_is_refused_clearly():
    with pytest.raises(ImportFileError, match="larger than 1 MB"):
        imports.decode(b"x" * (imports.MAX_FILE_BYTES + 1))


def test_file_with_too_many_rows_is_refused_clearly(monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    rows = [mentee_row(email=f"p{i}@home.test") for i in range(4)]
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        parse_mentees(*rows)
    assert parse_mentees(*rows[:3]).is_valid


def test_empty_file_and_header_only_file_are_refused_clearly():
    with pytest.raises(ImportFileError, match="empty"):
        imports.parse(MENTEES, "", trusts=TRUSTS, today=TODAY)
    with pytest.raises(ImportFileError, match="no rows"):
        imports.parse(MENTEES, MENTEE_HEADER + "\n\n", trusts=TRUSTS, today=TODAY)


def test_templates_have_the_expected_columns():
    assert imports.template_csv(MENTORS).strip() == MENTOR_HEADER
    assert imports.template_csv(MENTEES).strip() == MENTEE_HEADER


# --- Upload, preview, confirm ---------------------------------------------------------


def upload(client, cast, name, *, kind, data=None):
    data = data if data is not None else (FIXTURES / name).read_bytes()
    return client.post(
        reverse("mentoring:import_upload", args=["home"]),
        {
            "programme": cast.programme.pk,
            "kind": kind,
            "file": SimpleUploadedFile(name, data, content_type="text/csv"),
        },
    )


def confirm(client, preview):
    return client.post(
        reverse("mentoring:import_confirm", args=["home"]), {"payload": preview.context["payload"]}
    )


def mentee_emails(cast) -> list[str]:
    with scope(organisation=cast.org):
        return sorted(cast.programme.mentees.values_list("email", flat=True))


def import_events(cast):
    with scope(organisation=cast.org):
        return list(AuditEvent.objects.filter(object_type__endswith="import").order_by("pk"))


@pytest.mark.django_db
def test_admin_uploads_mentees_sees_preview_and_confirms(client, cast):
    client.force_login(cast.owner)
    preview = upload(client, cast, "mentees_valid.csv", kind=MENTEES)
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "Check the mentees before you import them" in body
    assert (preview.context["new_count"], preview.context["present_count"]) == (3, 0)
    assert "Liam O&#x27;Connor" in body
    assert mentee_emails(cast) == ["coastal.mentee@home.test", "mentee@home.test"]

    response = confirm(client, preview)
    assert response.status_code == 302
    assert response["Location"] == reverse("mentoring:import_upload", args=["home"])
    message = client.get(response["Location"]).content.decode()
    assert "3 new, 0 already present" in message
    with scope(organisation=cast.org):
        kemi = cast.programme.mentees.get(email="kemi.adeyemi@home.test")
        assert kemi.trust == cast.trust
        assert kemi.priority == Mentee.Priority.HIGH
        assert kemi.created_by == cast.owner
        assert kemi.status == Mentee.Status.IDENTIFIED
        priya = cast.programme.mentees.get(email="priya.nair@home.test")
        assert priya.priority == Mentee.Priority.MEDIUM
    [event] = import_events(cast)
    assert (event.action, event.object_type, event.actor) == ("create", "mentee import", cast.owner)
    assert event.object_label == "3 rows: 3 new, 0 already present"
    assert "@" not in event.object_label


@pytest.mark.django_db
def test_importing_the_same_mentor_file_twice_creates_no_duplicates(client, cast):
    client.force_login(cast.owner)
    first = upload(client, cast, "mentors_valid.csv", kind=MENTORS)
    assert (first.context["new_count"], first.context["present_count"]) == (3, 0)
    confirm(client, first)
    second = upload(client, cast, "mentors_valid.csv", kind=MENTORS)
    assert (second.context["new_count"], second.context["present_count"]) == (0, 3)
    confirm(client, second)

    emails = ["margaret.hale@home.test", "owen.pryce@home.test", "asha.patel@home.test"]
    users = get_user_model().objects.filter(email__in=emails)
    assert users.count() == 3
    assert not any(user.has_usable_password() for user in users)
    with scope(organisation=cast.org):
        assert Membership.objects.filter(user__in=users, role=Role.MENTOR).count() == 3
        mentors = Mentor.objects.filter(programme=cast.programme, user__in=users)
        assert mentors.count() == 3
        owen = mentors.get(user__email="owen.pryce@home.test")
        assert (owen.trust, owen.band, owen.max_concurrent, owen.max_per_year) == (
            cast.other_trust_same_org,
            "8b",
            4,
            8,
        )
        assert owen.specialism_list() == ["breast", "skin"]
    labels = [event.object_label for event in import_events(cast)]
    assert labels == [
        "3 rows: 3 new, 0 already present, 3 accounts created",
        "3 rows: 0 new, 3 already present",
    ]


@pytest.mark.django_db
def test_importing_the_same_mentee_file_twice_creates_no_duplicates(client, cast):
    client.force_login(cast.owner)
    confirm(client, upload(client, cast, "mentees_valid.csv", kind=MENTEES))
    after_first = mentee_emails(cast)
    second = upload(client, cast, "mentees_valid.csv", kind=MENTEES)
    assert (second.context["new_count"], second.context["present_count"]) == (0, 3)
    confirm(client, second)
    assert mentee_emails(cast) == after_first
    assert len(after_first) == 5


@pytest.mark.django_db
def test_mentor_already_in_the_programme_is_updated_and_keeps_their_account(client, cast):
    person = UserFactory(email="margaret.hale@home.test", full_name="Margaret Hale")
    MentorFactory(programme=cast.programme, user=person, band="7", max_concurrent=2)
    client.force_login(cast.owner)
    preview = upload(client, cast, "mentors_valid.csv", kind=MENTORS)
    assert (preview.context["new_count"], preview.context["present_count"]) == (2, 1)
    confirm(client, preview)
    person.refresh_from_db()
    assert person.has_usable_password()
    with scope(organisation=cast.org):
        mentor = Mentor.objects.get(programme=cast.programme, user=person)
    assert (mentor.band, mentor.max_concurrent, mentor.trust) == ("8a", 4, cast.trust)


@pytest.mark.django_db
def test_file_with_problems_lists_every_one_and_imports_nothing(client, cast):
    client.force_login(cast.owner)
    preview = upload(client, cast, "mentees_bad.csv", kind=MENTEES)
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "There is a problem with the file" in body
    assert "mentees_bad.csv has 8 problems. Nothing has been imported." in body
    assert "No trust in this organisation has the ODS code &quot;ZZZ&quot;" in body
    assert "payload" not in preview.context
    # The form keeps what was chosen.
    assert re.search(r'value="mentees"[^>]*checked', body)
    assert mentee_emails(cast) == ["coastal.mentee@home.test", "mentee@home.test"]
    assert import_events(cast) == []


@pytest.mark.django_db
def test_an_import_that_fails_part_way_leaves_nothing_behind(client, cast):
    client.force_login(cast.owner)
    preview = upload(client, cast, "mentors_valid.csv", kind=MENTORS)
    with mock.patch.object(Mentor.objects, "bulk_create", side_effect=IntegrityError("clash")):
        response = confirm(client, preview)
    assert response.status_code == 302
    assert "nothing was imported" in client.get(response["Location"]).content.decode()
    assert not get_user_model().objects.filter(email="margaret.hale@home.test").exists()
    with scope(organisation=cast.org):
        assert not Membership.objects.filter(user__email="owen.pryce@home.test").exists()
    assert import_events(cast) == []


@pytest.mark.django_db
def test_non_utf8_and_oversized_uploads_are_explained_on_the_form(client, cast):
    client.force_login(cast.owner)
    data = (MENTEE_HEADER + "\n" + mentee_row(full_name="Zoë") + "\n").encode("cp1252")
    body = upload(client, cast, "latin.csv", kind=MENTEES, data=data).content.decode()
    assert "There is a problem" in body
    assert "not saved as UTF-8" in body
    big = b"x" * (imports.MAX_FILE_BYTES + 10)
    body = upload(client, cast, "big.csv", kind=MENTEES, data=big).content.decode()
    assert "larger than 1 MB" in body
    assert mentee_emails(cast) == ["coastal.mentee@home.test", "mentee@home.test"]


@pytest.mark.django_db
def test_upload_form_explains_missing_choices(client, cast):
    client.force_login(cast.owner)
    response = client.post(reverse("mentoring:import_upload", args=["home"]), {})
    body = response.content.decode()
    assert "Choose the programme to import into" in body
    assert "Choose whether the file holds mentors or mentees" in body
    assert "Choose a CSV file" in body


@pytest.mark.django_db
def test_tampered_or_foreign_preview_cannot_be_confirmed(client, cast):
    client.force_login(cast.owner)
    preview = upload(client, cast, "mentees_valid.csv", kind=MENTEES)
    payload = preview.context["payload"]
    response = client.post(
        reverse("mentoring:import_confirm", args=["home"]), {"payload": payload[:-3] + "abc"}
    )
    assert "The preview has expired" in client.get(response["Location"]).content.decode()
    # Another organisation's admin cannot replay it under their own organisation.
    client.force_login(cast.other_admin)
    client.post(reverse("mentoring:import_confirm", args=["other"]), {"payload": payload})
    assert mentee_emails(cast) == ["coastal.mentee@home.test", "mentee@home.test"]
    with scope(organisation=cast.other_org):
        assert Mentee.objects.count() == 1


@pytest.mark.django_db
def test_confirm_checks_the_file_again(client, cast):
    client.force_login(cast.owner)
    preview = upload(client, cast, "mentees_valid.csv", kind=MENTEES)
    with scope(organisation=cast.org):
        cast.programme.mentees.filter(trust=cast.other_trust_same_org).delete()
        cast.other_trust_same_org.delete()
    response = confirm(client, preview)
    assert response.status_code == 200
    assert (
        "No trust in this organisation has the ODS code &quot;HCH&quot;"
        in response.content.decode()
    )
    assert mentee_emails(cast) == ["mentee@home.test"]


@pytest.mark.django_db
def test_templates_download_as_csv_with_a_byte_order_mark(client, cast):
    client.force_login(cast.owner)
    url = reverse("mentoring:import_upload", args=["home"])
    response = client.get(url, {"template": "mentees"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode("utf-8-sig").strip() == MENTEE_HEADER
    response = client.get(url, {"template": "mentors"})
    assert response.content.decode("utf-8-sig").strip() == MENTOR_HEADER
    page = client.get(url).content.decode()
    assert "?template=mentors" in page and "?template=mentees" in page


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["colleague", "evaluator", "mentor", "mentee"])
def test_only_admins_download_templates(client, cast, person):
    client.force_login(getattr(cast, person))
    url = reverse("mentoring:import_upload", args=["home"])
    assert client.get(url, {"template": "mentors"}).status_code == 404
