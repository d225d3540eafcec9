"""The monthly anonymised export: what the workbook holds and never holds, stable keys,
atomic builds, small-count suppression, and the pages that build and hand it out."""

from __future__ import annotations

import csv
import datetime
import io
import os
import signal
import zipfile

import openpyxl
import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import exports, workbook
from evaluation.models import MonthlyExport
from evaluation.suppression import suppress
from evaluation.tasks import build_previous_month_exports
from mentoring.models import Agreement, SessionAction, SessionLog, SessionRecord
from mentoring.pseudonyms import mentee_key
from programmes.models import AuditEvent, Programme, Role
from surveys.instruments import default_instrument, latest_version
from surveys.models import Audience, Instrument, SurveyInvitation, SurveyResponse

from .factories import (
    MembershipFactory,
    MenteeFactory,
    MentorFactory,
    OrganisationFactory,
    ProgrammeFactory,
    TrustFactory,
    UserFactory,
)
from .factories_matching import RelationshipFactory

pytestmark = pytest.mark.django_db

CANARIES = [
    "Zebedee Quartermaine",
    "zebedee.q@canary.test",
    "Ottoline Vexley",
    "ottoline.v@canary.test",
    "Peregrine Mallowfield",
    "peregrine.m@canary.test",
    "07700 900461",
    "SECRET-NEEDS-d41d",
    "SECRET-PRIORITY-REASON-8f0e",
    "SECRET-SUMMARY-0cc1",
    "SECRET-ACTION-7a2b",
    "SECRET-RECORD-PLAN-e3b0",
    "SECRET-REFLECTION-44c2",
    "SECRET-GOALS-9b1d",
    "SECRET-CLOSURE-5e88",
    "SECRET-FREE-TEXT-ANSWER-c4ca",
    "SECRET-ODD-CHOICE-a87f",
    "SECRET-BIO-1679",
]


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def build(programme, month=None, *, capture=None) -> MonthlyExport:
    """Ask for an export as a person would and let the (eager) task build it."""
    month = month or this_month()
    with scope(organisation=programme.organisation):
        if capture is not None:
            with capture(execute=True):
                export, _ = exports.request_export(programme, month)
        else:
            export, _ = exports.request_export(programme, month)
            exports.build_export(export.pk)
        export.refresh_from_db()
    assert export.status == MonthlyExport.Status.READY, export.error
    return export


def workbook_cells(export) -> tuple[list[str], list[list]]:
    """Every sheet name, and every cell of every sheet, read back from the file."""
    with exports.storage().open(export.xlsx_name, "rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()), read_only=True)
    rows = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            rows.append([sheet.title, *row])
    return book.sheetnames, rows


def sheet_rows(export, name) -> list[dict]:
    with exports.storage().open(export.xlsx_name, "rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()), read_only=True)
    rows = list(book[name].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def final_files(root) -> set[str]:
    """Files at final paths in the exports folder (not its folder of builds in progress)."""
    found = set()
    for folder, _, files in os.walk(root):
        relative = os.path.relpath(folder, root)
        if relative.split(os.sep)[0] == "tmp":
            continue
        found |= {os.path.normpath(os.path.join(relative, name)) for name in files}
    return found


def csv_texts(export) -> dict[str, str]:
    with exports.storage().open(export.csv_name, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
        return {name: archive.read(name).decode() for name in archive.namelist()}


@pytest.fixture
def busy_programme(cast):
    """A programme with a pair, sessions, an agreement, records and survey answers, every
    free-text field full of canaries."""
    programme = cast.programme
    with scopes_disabled():
        mentor_user = UserFactory(email="zebedee.q@canary.test", full_name="Zebedee Quartermaine")
        mentor = MentorFactory(
            programme=programme, user=mentor_user, trust=cast.trust, bio="SECRET-BIO-1679"
        )
        mentee = MenteeFactory(
            programme=programme,
            trust=cast.trust,
            full_name="Ottoline Vexley",
            email="ottoline.v@canary.test",
            line_manager_name="Peregrine Mallowfield",
            line_manager_email="peregrine.m@canary.test",
            needs="SECRET-NEEDS-d41d call 07700 900461",
            priority_reason="SECRET-PRIORITY-REASON-8f0e",
            status="active",
            band="6",
        )
        relationship = RelationshipFactory(
            mentor=mentor,
            mentee=mentee,
            stage="navigating",
            started_on=timezone.localdate() - datetime.timedelta(days=20),
        )
        now = timezone.now()
        Agreement.objects.create(
            relationship=relationship,
            goals="SECRET-GOALS-9b1d",
            meeting_frequency="Monthly",
            meeting_duration="One hour",
            evaluation_period="12 months",
            progress_recording="The session log",
            confidentiality="Confidential",
            mentor_signed_name="Zebedee Quartermaine",
            mentor_signed_at=now,
            mentee_signed_name="Ottoline Vexley",
            mentee_signed_at=now,
        )
        for days_ago, method in ((15, "video"), (8, "face_to_face"), (2, "video")):
            log = SessionLog.objects.create(
                programme=programme,
                mentor=mentor,
                held_on=timezone.localdate() - datetime.timedelta(days=days_ago),
                duration_minutes=45,
                method=method,
                summary="SECRET-SUMMARY-0cc1 with Ottoline Vexley",
                themes=["mdt", "wellbeing"],
            )
            log.relationships.add(relationship)
            SessionAction.objects.create(log=log, what="SECRET-ACTION-7a2b", who="Ottoline Vexley")
            SessionRecord.objects.create(
                relationship=relationship,
                log=log,
                held_on=log.held_on,
                duration_minutes=45,
                plan="SECRET-RECORD-PLAN-e3b0",
                reflections="SECRET-REFLECTION-44c2",
            )
        closed_mentee = MenteeFactory(
            programme=programme, trust=cast.other_trust_same_org, status="closed"
        )
        RelationshipFactory(
            mentor=mentor,
            mentee=closed_mentee,
            stage="closed",
            started_on=timezone.localdate() - datetime.timedelta(days=25),
            ended_on=timezone.localdate() - datetime.timedelta(days=1),
            closure_kind="goals_met",
            closure_reason="SECRET-CLOSURE-5e88 Ottoline Vexley",
            continuing_informally=True,
        )
        submitted_closure(
            mentee,
            relationship,
            {
                "confidence_role": "4",
                "satisfaction_match": "SECRET-ODD-CHOICE-a87f",
                "what_helped": "SECRET-FREE-TEXT-ANSWER-c4ca from Ottoline Vexley",
                "trust_built_easily": "yes",
            },
            key=f"closure:mentee:{mentee.pk}:0",
            at=now,
        )
    return programme


def submitted_closure(mentee, relationship, answers: dict, *, key: str, at) -> SurveyResponse:
    """The mentee's closure survey, invited three days ago and submitted ``at``."""
    programme = mentee.programme
    today = timezone.localdate()
    with scopes_disabled():
        version = latest_version(default_instrument(programme, Instrument.Kind.MENTEE_CLOSURE))
        invitation = SurveyInvitation.objects.create(
            programme=programme,
            version=version,
            wave="closure",
            audience=Audience.MENTEE,
            mentee=mentee,
            relationship=relationship,
            email=mentee.email,
            pseudonym=mentee_key(mentee),
            key=key,
            due_on=today - datetime.timedelta(days=3),
            expires_on=today + datetime.timedelta(days=20),
            completed_at=at,
        )
        return SurveyResponse.objects.create(
            programme=programme,
            invitation=invitation,
            version=version,
            wave="closure",
            pseudonym=invitation.pseudonym,
            answers=answers,
            submitted_at=at,
        )


def test_no_name_email_phone_or_free_text_reaches_any_cell_sheet_name_or_csv(
    busy_programme, django_capture_on_commit_callbacks
):
    export = build(busy_programme, capture=django_capture_on_commit_callbacks)
    names, rows = workbook_cells(export)
    everything = "\n".join(names) + "\n".join(
        " ".join("" if cell is None else str(cell) for cell in row) for row in rows
    )
    texts = csv_texts(export)
    everything += "\n".join(texts) + "\n".join(texts.values())
    for canary in CANARIES:
        assert canary.lower() not in everything.lower(), canary
    # It is not empty: the pair, the sessions and the closed answers are all there.
    assert export.row_counts["Sessions"] == 3
    assert export.row_counts["Relationships"] == 2
    assert export.row_counts["Survey answers"] == 1
    assert set(texts) == {
        "about.csv",
        "mentees.csv",
        "mentors.csv",
        "relationships.csv",
        "sessions.csv",
        "survey_invitations.csv",
        "survey_answers.csv",
        "summary.csv",
        "data_dictionary.csv",
    }


def test_the_sheets_hold_what_the_project_spreadsheet_did(busy_programme):
    export = build(busy_programme)
    with scopes_disabled():
        mentee = busy_programme.mentees.get(email="ottoline.v@canary.test")
        mentor = busy_programme.mentors.get(user__email="zebedee.q@canary.test")
    key = mentee_key(mentee)

    mentees = {row["mentee_key"]: row for row in sheet_rows(export, "Mentees")}
    assert mentees[key]["trust"] == "HGH"
    assert mentees[key]["matched"] == "Y"
    assert mentees[key]["status"] == "active"
    assert mentees[key]["appointed_month"] == f"{mentee.appointed_on:%Y-%m}"
    assert mentees[key]["months_in_role_when_identified"] == 1

    pair = next(r for r in sheet_rows(export, "Relationships") if r["mentee_key"] == key)
    assert pair["agreement_signed"] == "Y"
    assert pair["sessions"] == 3
    assert pair["total_hours"] == 2.3
    assert pair["method_mix"] == "video:2; face_to_face:1"
    assert pair["cross_trust"] == "N"
    closed = next(r for r in sheet_rows(export, "Relationships") if r["stage"] == "closed")
    assert closed["closure_reason"] == "goals_met"
    assert closed["continuing_informally"] == "Y"

    sessions = sheet_rows(export, "Sessions")
    assert {s["themes"] for s in sessions} == {"mdt; wellbeing"}
    assert all(s["month"] and len(s["month"]) == 7 for s in sessions)

    mentors = {row["mentor_key"]: row for row in sheet_rows(export, "Mentors")}
    with scopes_disabled():
        from mentoring.pseudonyms import mentor_key

        assert mentors[mentor_key(mentor)]["caseload_this_year"] == 2
        assert mentors[mentor_key(mentor)]["target"] == 8

    answers = sheet_rows(export, "Survey answers")
    assert answers[0]["person_key"] == key
    assert answers[0]["confidence_role"] == 4
    assert answers[0]["trust_built_easily"] == "yes"
    # A value outside the question's choices is left out, never copied.
    assert answers[0]["satisfaction_match"] in (None, "")
    assert "what_helped" not in answers[0]

    dictionary = sheet_rows(export, "Data dictionary")
    described = {(row["sheet"], row["column"]) for row in dictionary}
    for sheet in ("Mentees", "Mentors", "Relationships", "Sessions", "Survey invitations"):
        header = list(sheet_rows(export, sheet)[0])
        assert {(sheet, column) for column in header} <= described
    assert ("Survey answers", "confidence_role") in described


def test_keys_are_the_same_in_two_builds_and_differ_between_organisations(cast):
    def people_in(organisation):
        trust = TrustFactory(organisation=organisation, ods_code="SAM")
        programme = ProgrammeFactory(organisation=organisation, name="Same people")
        with scopes_disabled():
            mentor = MentorFactory(programme=programme, user=UserFactory(), trust=trust)
            for n in range(3):
                mentee = MenteeFactory(programme=programme, trust=trust, email=f"same{n}@x.test")
                RelationshipFactory(mentor=mentor, mentee=mentee)
        return programme

    first_org = OrganisationFactory(slug="first-same")
    second_org = OrganisationFactory(slug="second-same")
    first, second = people_in(first_org), people_in(second_org)

    once = sorted(r["mentee_key"] for r in sheet_rows(build(first), "Mentees"))
    again = sorted(r["mentee_key"] for r in sheet_rows(build(first), "Mentees"))
    elsewhere = sorted(r["mentee_key"] for r in sheet_rows(build(second), "Mentees"))
    assert once == again
    assert len(once) == 3
    assert not set(once) & set(elsewhere)


def test_rebuilding_a_month_replaces_the_export_and_its_old_files(
    cast, django_capture_on_commit_callbacks
):
    first = build(cast.programme, capture=django_capture_on_commit_callbacks)
    old_file = first.xlsx_name
    second = build(cast.programme, capture=django_capture_on_commit_callbacks)
    assert first.pk == second.pk
    with scopes_disabled():
        assert MonthlyExport.objects.filter(programme=cast.programme).count() == 1
    assert second.xlsx_name != old_file
    assert exports.storage().exists(second.xlsx_name)
    assert not exports.storage().exists(old_file)


@pytest.mark.django_db(transaction=True)
def test_a_build_killed_part_way_leaves_no_file_and_the_previous_export_stands(cast):
    good = build(cast.programme)
    with scopes_disabled():
        mentor = MentorFactory(programme=cast.programme, user=UserFactory(), trust=cast.trust)
        relationship = RelationshipFactory(mentor=mentor, mentee=cast.mentee_record)
        for n in range(5):
            log = SessionLog.objects.create(
                programme=cast.programme,
                mentor=mentor,
                held_on=timezone.localdate() - datetime.timedelta(days=n),
                duration_minutes=30,
                method="phone",
                summary="A call",
            )
            log.relationships.add(relationship)
    export = good
    storage_root = exports.storage().location
    before = final_files(storage_root)

    connection.close()
    pid = os.fork()
    if pid == 0:  # The build, killed with SIGKILL after writing two session rows.
        try:
            real = workbook.Builder.sessions_sheet

            def dying(self):
                sheet = real(self)
                rows = sheet.rows

                def rows_then_die():
                    for n, row in enumerate(rows()):
                        if n == 2:
                            os.kill(os.getpid(), signal.SIGKILL)
                        yield row

                sheet.rows = rows_then_die
                return sheet

            workbook.Builder.sessions_sheet = dying
            with scope(organisation=cast.org):
                exports.build_export(export.pk, build_id="killed-build")
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

    with scopes_disabled():
        export.refresh_from_db()
    assert export.status == MonthlyExport.Status.BUILDING
    assert export.build_id == "killed-build"
    # The previous good export is untouched and still the one handed out.
    assert export.xlsx_name == good.xlsx_name
    assert export.xlsx_sha256 == good.xlsx_sha256
    assert exports.storage().exists(good.xlsx_name)
    after = final_files(storage_root)
    # Nothing of the killed build reached a final path.
    assert after == before
    assert not any("killed-build"[:12] in name for name in after)
    # The killed build's claim is seen as stopped once it is stale, and a new build
    # takes over and finishes.
    with scopes_disabled():
        MonthlyExport.objects.filter(pk=export.pk).update(
            build_started_at=timezone.now() - datetime.timedelta(hours=1)
        )
        export.refresh_from_db()
    assert exports.is_stale(export)
    with scope(organisation=cast.org):
        rebuilt = exports.build_export(export.pk)
    assert rebuilt.status == MonthlyExport.Status.READY
    assert rebuilt.row_counts["Sessions"] == 5


def test_a_second_build_of_the_same_export_waits_for_the_first(cast):
    with scope(organisation=cast.org):
        export, _ = exports.request_export(cast.programme, this_month())
        MonthlyExport.objects.filter(pk=export.pk).update(
            status=MonthlyExport.Status.BUILDING,
            build_id="someone-else",
            build_started_at=timezone.now(),
        )
        assert exports.build_export(export.pk, build_id="me") is None
        again, queued = exports.request_export(cast.programme, this_month())
    assert queued is False
    assert again.pk == export.pk


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.tuples(
            st.sampled_from(["AAA", "BBB", "CCC", workbook.UNKNOWN_TRUST]),
            st.sampled_from(["2026-01", "2026-02", "2026-03"]),
            st.sampled_from([m for m, _ in workbook.SUMMARY_MEASURES]),
        ),
        st.integers(min_value=0, max_value=60),
    )
)
def test_the_summary_never_shows_a_count_from_one_to_seven(counts):
    from collections import Counter

    rows = list(
        workbook.summary_rows(
            Counter(counts), ["AAA", "BBB", "CCC"], ["2026-01", "2026-02", "2026-03"]
        )
    )
    for row in rows:
        for cell in row[2:]:
            assert cell == "<8" or (isinstance(cell, int) and (cell == 0 or cell >= 8))
    # Every non-zero count is shown, suppressed or not.
    shown = sum(1 for row in rows for cell in row[2:] if cell != 0)
    assert shown == sum(1 for value in counts.values() if value)


def test_suppression_keeps_zero_and_eight():
    assert [suppress(n) for n in (0, 1, 7, 8, 30)] == [0, "<8", "<8", 8, 30]


def test_the_summary_sheet_of_a_built_export_suppresses_small_counts(busy_programme):
    export = build(busy_programme)
    summary = sheet_rows(export, "Summary")
    assert summary, "the summary has rows"
    for row in summary:
        for measure, _ in workbook.SUMMARY_MEASURES:
            value = row[measure]
            assert value == "<8" or int(value) == 0 or int(value) >= 8


# --- Pages ------------------------------------------------------------------------------


def test_admin_builds_this_months_export_from_the_page_and_downloads_it(
    client, cast, busy_programme, django_capture_on_commit_callbacks
):
    client.force_login(cast.owner)
    url = reverse("evaluation:export_list", args=[cast.org.slug, busy_programme.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "No export has been built" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"month": this_month().isoformat()})
    with scopes_disabled():
        export = MonthlyExport.objects.get(programme=busy_programme)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "evaluation:export_detail", args=[cast.org.slug, busy_programme.pk, export.pk]
    )
    detail = client.get(response["Location"]).content.decode()
    assert "Download the Excel workbook" in detail
    assert export.xlsx_sha256 in detail
    # The requester is told by e-mail, with a link and no data.
    assert [m.to for m in mail.outbox] == [[cast.owner.email]]
    assert "/evaluation/exports/" in mail.outbox[0].body
    assert "Ottoline" not in mail.outbox[0].body

    xlsx_url = reverse("evaluation:export_xlsx", args=[cast.org.slug, busy_programme.pk, export.pk])
    # A bare link goes to the export's page; the page's links download.
    assert client.get(xlsx_url).status_code == 302
    assert f"{xlsx_url}?download=1" in detail
    xlsx = client.get(xlsx_url, {"download": "1"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Disposition"].startswith("attachment;")
    assert xlsx["Cache-Control"] == "private, no-store"
    body = b"".join(xlsx.streaming_content)
    assert body[:2] == b"PK"
    zipped = client.get(
        reverse("evaluation:export_csv", args=[cast.org.slug, busy_programme.pk, export.pk]),
        {"download": "1"},
    )
    archive = zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content)))
    mentees = list(csv.DictReader(io.StringIO(archive.read("mentees.csv").decode())))
    assert len(mentees) == export.row_counts["Mentees"]

    with scopes_disabled():
        downloads = AuditEvent.objects.filter(
            action=AuditEvent.Action.DOWNLOAD, object_type="monthlyexport"
        )
        assert sorted(downloads.values_list("fields", flat=True)) == [["csv"], ["xlsx"]]
    listing = client.get(url).content.decode()
    assert "Owner" in listing  # who downloaded it
    assert export.label in listing


def test_a_month_outside_the_list_is_refused_with_a_message(client, cast):
    client.force_login(cast.owner)
    url = reverse("evaluation:export_list", args=[cast.org.slug, cast.programme.pk])
    response = client.post(url, {"month": "1999-01-01"})
    assert response.status_code == 200
    assert "Choose a month from the list" in response.content.decode()
    with scopes_disabled():
        assert not MonthlyExport.objects.exists()


def test_the_status_page_reports_progress_without_personal_data(client, cast):
    client.force_login(cast.evaluator)
    with scope(organisation=cast.org):
        export, _ = exports.request_export(cast.programme, this_month())
    status_url = reverse(
        "evaluation:export_status", args=[cast.org.slug, cast.programme.pk, export.pk]
    )
    assert client.get(status_url).status_code == 302
    response = client.get(status_url, headers={"accept": "application/json"})
    assert response.json() == {
        "status": "queued",
        "steps_done": 0,
        "steps_total": 0,
        "ready": False,
        "stale": False,
    }
    detail = client.get(
        reverse("evaluation:export_detail", args=[cast.org.slug, cast.programme.pk, export.pk])
    ).content.decode()
    assert "data-poll-url" in detail
    assert "waiting to be built" in detail


@pytest.mark.parametrize("person", ["colleague", "mentor", "mentee", "lead_without_trusts"])
def test_only_admins_and_evaluators_reach_exports(client, cast, person):
    export = build(cast.programme)
    client.force_login(getattr(cast, person))
    for name in ("export_list", "export_detail", "export_xlsx", "export_csv"):
        args = [cast.org.slug, cast.programme.pk] + ([] if name == "export_list" else [export.pk])
        url = reverse(f"evaluation:{name}", args=args)
        assert client.get(url, {"download": "1"}).status_code == 404


def test_list_page_runs_the_same_queries_however_many_exports(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.owner)
    url = reverse("evaluation:export_list", args=[cast.org.slug, cast.programme.pk])
    with scope(organisation=cast.org):
        for months_ago in range(1, 13):
            MonthlyExport.objects.create(
                programme=cast.programme,
                month=(this_month() - datetime.timedelta(days=28 * months_ago)).replace(day=1),
                status=MonthlyExport.Status.READY,
            )
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200


# --- The monthly job ------------------------------------------------------------------------


def test_beat_builds_last_months_export_of_active_programmes_once_and_tells_the_team(
    cast, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        ProgrammeFactory(organisation=cast.org, name="Draft one", status=Programme.Status.DRAFT)
        MembershipFactory(
            organisation=cast.org, user=UserFactory(email="a2@home.test"), role=Role.ADMIN
        )
        Programme.objects.filter(pk=cast.programme.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=90)
        )
    last_month = exports.previous_month()
    with django_capture_on_commit_callbacks(execute=True):
        build_previous_month_exports()
    with scopes_disabled():
        built = list(MonthlyExport.objects.filter(programme__organisation=cast.org))
        other = list(MonthlyExport.objects.filter(programme__organisation=cast.other_org))
    assert [(e.programme_id, e.month, e.status) for e in built] == [
        (cast.programme.pk, last_month, MonthlyExport.Status.READY)
    ]
    assert len(other) == 1  # the other organisation's active programme, in its own scope
    home_mail = sorted(addr for m in mail.outbox for addr in m.to if addr.endswith("home.test"))
    assert home_mail == ["a2@home.test", "evaluator@home.test", "owner@home.test"]

    # A second scheduler, or the job run twice, builds and sends nothing more.
    sent = len(mail.outbox)
    checksum = built[0].xlsx_sha256
    with django_capture_on_commit_callbacks(execute=True):
        build_previous_month_exports()
    with scopes_disabled():
        assert MonthlyExport.objects.get(pk=built[0].pk).xlsx_sha256 == checksum
    assert len(mail.outbox) == sent


def test_the_schedule_runs_at_two_on_the_first_by_default():
    from django.conf import settings as django_settings

    entry = django_settings.CELERY_BEAT_SCHEDULE["build-monthly-exports"]
    assert entry["task"] == "evaluation.tasks.build_previous_month_exports"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1}
    assert schedule.hour == {2}
    assert schedule.minute == {0}


def test_exports_are_stored_outside_the_public_media_folder_and_never_served_by_path(client, cast):
    from django.conf import settings as django_settings

    export = build(cast.programme)
    root = os.path.realpath(exports.storage().location)
    media = os.path.realpath(django_settings.MEDIA_ROOT)
    static = os.path.realpath(django_settings.STATIC_ROOT)
    for public in (media, static):
        assert not root.startswith(public + os.sep) and root != public
    client.force_login(cast.owner)
    for prefix in ("/media/", "/static/", "/"):
        assert client.get(prefix + export.xlsx_name).status_code == 404


def test_a_group_session_is_one_session_key_with_a_row_for_each_pair(cast):
    with scopes_disabled():
        mentor = MentorFactory(programme=cast.programme, user=UserFactory(), trust=cast.trust)
        first = RelationshipFactory(mentor=mentor, mentee=cast.mentee_record)
        second = RelationshipFactory(mentor=mentor, mentee=cast.mentee_other_trust)
        held_on = timezone.localdate()
        group = SessionLog.objects.create(
            programme=cast.programme,
            mentor=mentor,
            held_on=held_on,
            duration_minutes=60,
            method="group",
            summary="Group session",
        )
        group.relationships.add(first, second)
        solo = SessionLog.objects.create(
            programme=cast.programme,
            mentor=mentor,
            held_on=held_on,
            duration_minutes=30,
            method="phone",
            summary="A call",
        )
        solo.relationships.add(first)
    export = build(cast.programme)
    sessions = sheet_rows(export, "Sessions")
    assert sorted((row["method"], row["group_size"]) for row in sessions) == [
        ("group", 2),
        ("group", 2),
        ("phone", 1),
    ]
    group_keys = {row["session_key"] for row in sessions if row["method"] == "group"}
    assert len(group_keys) == 1
    assert {row["relationship_key"] for row in sessions if row["method"] == "group"} == {
        row["relationship_key"] for row in sheet_rows(export, "Relationships")
    }
    pairs = {row["mentee_key"]: row for row in sheet_rows(export, "Relationships")}
    with scopes_disabled():
        assert pairs[mentee_key(cast.mentee_record)]["sessions"] == 2
        assert pairs[mentee_key(cast.mentee_record)]["total_hours"] == 1.5
        assert pairs[mentee_key(cast.mentee_other_trust)]["sessions"] == 1
    summary = {(row["trust"], row["month"]): row for row in sheet_rows(export, "Summary")}
    month = f"{held_on:%Y-%m}"
    # Three sessions in all across two trusts: small counts, shown as <8.
    assert summary[("HGH", month)]["sessions_held"] == "<8"
    assert summary[("HCH", month)]["sessions_held"] == "<8"


def test_self_declared_equality_answers_stay_out_of_the_export(cast):
    with scope(organisation=cast.org):
        version = latest_version(default_instrument(cast.programme, Instrument.Kind.MENTEE_STARTER))
        SurveyResponse.objects.create(
            programme=cast.programme,
            version=version,
            wave="starter",
            pseudonym="ME-equality",
            answers={"confidence_role": "3", "eq_age_band": "30_39", "eq_ethnic_group": "white"},
            submitted_at=timezone.now(),
        )
    export = build(cast.programme)
    answers = sheet_rows(export, "Survey answers")
    assert answers[0]["confidence_role"] == 3
    assert not [column for column in answers[0] if column.startswith("eq_")]
    dictionary = sheet_rows(export, "Data dictionary")
    assert not [row for row in dictionary if str(row["column"]).startswith("eq_")]
