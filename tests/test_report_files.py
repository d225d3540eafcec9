"""Each report's PDF and workbook: built in the background from the same report the
page shows, so the three carry the same figures; downloads are authorised and audited."""

from __future__ import annotations

import io
import shutil
import subprocess

import openpyxl
import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from evaluation import exports, report_files, reports
from evaluation.models import ReportFile
from programmes.models import AuditEvent

from .test_outcomes_report import answer

pytestmark = pytest.mark.django_db

PAIRS = [(2, 3), (3, 4), (3, 3), (2, 4), (1, 2), (4, 4), (2, 4), (3, 5)]


def pdf_text(pdf: bytes) -> str:
    argv = [shutil.which("pdftotext"), "-layout", "-", "-"]
    out = subprocess.run(argv, input=pdf, capture_output=True, check=True).stdout  # noqa: S603
    return " ".join(out.decode().split())


def pdf_pages(pdf: bytes) -> int:
    out = subprocess.run(  # noqa: S603
        [shutil.which("pdfinfo"), "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return int(next(line for line in out.splitlines() if line.startswith("Pages:")).split()[-1])


def with_eight_pairs(programme):
    for n, (before, after) in enumerate(PAIRS):
        answer(programme, "starter", f"ME-{n}", confidence_role=before)
        answer(programme, "closure", f"ME-{n}", confidence_role=after)


def url(cast, name, fmt="pdf", report="outcomes"):
    return reverse(name, args=[cast.org.slug, cast.programme.pk, report, fmt])


def read(report_file: ReportFile) -> bytes:
    with exports.storage().open(report_file.file_name, "rb") as handle:
        return handle.read()


def build_from_page(client, cast, fmt, capture, report="outcomes") -> ReportFile:
    with capture(execute=True):
        response = client.post(url(cast, "evaluation:report_file", fmt, report))
    assert response.status_code == 302
    with scopes_disabled():
        built = ReportFile.objects.get(programme=cast.programme, report=report, format=fmt)
    assert built.status == ReportFile.Status.READY, built.error
    return built


def test_admin_builds_the_pdf_from_the_report_page_and_downloads_it(
    client, cast, django_capture_on_commit_callbacks
):
    with_eight_pairs(cast.programme)
    client.force_login(cast.owner)
    page_url = reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk])
    assert "Not built yet." in client.get(page_url).content.decode()
    built = build_from_page(client, cast, "pdf", django_capture_on_commit_callbacks)
    page = client.get(page_url).content.decode()
    download = f"{url(cast, 'evaluation:report_file')}?download=1"
    assert download in page
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert body[:5] == b"%PDF-"
    assert built.sha256 == __import__("hashlib").sha256(body).hexdigest()
    with scopes_disabled():
        assert AuditEvent.objects.filter(
            action=AuditEvent.Action.DOWNLOAD, object_type="reportfile"
        ).exists()
    # A bare link goes to the report's page.
    assert client.get(url(cast, "evaluation:report_file"))["Location"] == page_url


def test_the_pdf_has_a_contents_page_and_the_figures_the_page_shows(
    client, cast, django_capture_on_commit_callbacks
):
    with_eight_pairs(cast.programme)
    client.force_login(cast.evaluator)
    built = build_from_page(client, cast, "pdf", django_capture_on_commit_callbacks)
    pdf = read(built)
    text = pdf_text(pdf)
    assert "Contents" in text
    assert "Confidence in the role" in text
    assert pdf_pages(pdf) >= 2
    page = client.get(
        reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk])
    ).content.decode()
    # Mean change 1.125 → 1.12 or 1.13, its interval and p, the same on the page and in the PDF.
    for figure in ("0.43", "1.82", "0.031"):
        assert figure in page
        assert figure in text


def test_the_workbook_holds_every_table_cell_for_cell(
    client, cast, django_capture_on_commit_callbacks
):
    with_eight_pairs(cast.programme)
    client.force_login(cast.owner)
    built = build_from_page(client, cast, "xlsx", django_capture_on_commit_callbacks)
    book = openpyxl.load_workbook(io.BytesIO(read(built)), read_only=True)
    with scope(organisation=cast.org):
        report = reports.spec("outcomes").build(cast.programme)
    assert book.sheetnames[0] == "About"
    assert len(book.sheetnames) == len(report.tables) + 1
    for sheet_name, table in zip(book.sheetnames[1:], report.tables, strict=True):
        rows = [list(r) for r in book[sheet_name].iter_rows(values_only=True)]
        assert rows[0] == table.columns
        assert rows[1 : 1 + len(table.rows)] == table.rows
    confidence = report.table("change-confidence_role")
    closure = next(row for row in confidence.rows if row[0] == "Closure")
    assert closure[1:4] == [8, 1.12, 0.43] or closure[1:4] == [8, 1.13, 0.43]


def test_a_second_press_while_building_queues_nothing_more(cast):
    with scope(organisation=cast.org):
        first, queued = report_files.request_build(cast.programme, "outcomes", "pdf")
        again, queued_again = report_files.request_build(cast.programme, "outcomes", "pdf")
    assert queued and not queued_again
    assert first.pk == again.pk


def test_a_build_claimed_by_another_waits(cast):
    with scope(organisation=cast.org):
        report_file, _ = report_files.request_build(cast.programme, "outcomes", "xlsx")
        assert report_files.build(report_file.pk, build_id="first") is not None
        ReportFile.objects.filter(pk=report_file.pk).update(status="building", build_id="other")
        from django.utils import timezone

        ReportFile.objects.filter(pk=report_file.pk).update(build_started_at=timezone.now())
        assert report_files.build(report_file.pk, build_id="second") is None


def test_rebuilding_replaces_the_file_and_removes_the_old_one(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.owner)
    first = build_from_page(client, cast, "xlsx", django_capture_on_commit_callbacks)
    second = build_from_page(client, cast, "xlsx", django_capture_on_commit_callbacks)
    assert first.file_name != second.file_name
    assert not exports.storage().exists(first.file_name)
    assert exports.storage().exists(second.file_name)


def test_a_report_with_no_data_still_builds_and_says_what_is_missing(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.owner)
    built = build_from_page(client, cast, "pdf", django_capture_on_commit_callbacks)
    assert "No mentee has answered the starter survey yet" in pdf_text(read(built))


def test_the_status_answers_json_to_the_poll_and_sends_a_person_to_the_page(client, cast):
    with scope(organisation=cast.org):
        report_files.request_build(cast.programme, "outcomes", "pdf")
    client.force_login(cast.evaluator)
    status = client.get(
        url(cast, "evaluation:report_file_status"), headers={"Accept": "application/json"}
    )
    assert status.json() == {"status": "queued", "ready": False, "stale": False}
    assert client.get(url(cast, "evaluation:report_file_status")).status_code == 302


@pytest.mark.parametrize("person", ["colleague", "mentor", "mentee", "outsider"])
def test_only_admins_and_evaluators_build_reports(client, cast, person):
    client.force_login(getattr(cast, person))
    assert client.post(url(cast, "evaluation:report_file")).status_code == 404
    with scopes_disabled():
        assert not ReportFile.objects.exists()


def test_an_unknown_report_or_format_answers_404(client, cast):
    client.force_login(cast.owner)
    assert client.post(url(cast, "evaluation:report_file", "docx")).status_code == 404
    assert client.post(url(cast, "evaluation:report_file", "pdf", "nonsense")).status_code == 404


def test_the_index_lists_every_report(client, cast):
    client.force_login(cast.evaluator)
    page = client.get(
        reverse("evaluation:report_index", args=[cast.org.slug, cast.programme.pk])
    ).content.decode()
    for spec in reports.specs():
        assert spec.title in page


def test_report_pdfs_are_tagged_for_screen_readers(cast):
    with scope(organisation=cast.org):
        report = reports.spec("outcomes").build(cast.programme)
        pdf = report_files.pdf_bytes(cast.programme, report)
    info = subprocess.run(  # noqa: S603
        [shutil.which("pdfinfo"), "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Tagged:          yes" in info
    structure = subprocess.run(  # noqa: S603
        [shutil.which("pdfinfo"), "-struct", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "H1" in structure and "Table" in structure
