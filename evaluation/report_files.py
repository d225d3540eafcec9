"""Each report's PDF and .xlsx, built in the background and kept until rebuilt.

The same :class:`~evaluation.reports.base.Report` that the page shows is rendered to
a PDF (WeasyPrint: A4, a contents page, the body template of the page) and written to
a workbook (one sheet per table), so the three carry the same figures. A build
claims its row with a conditional update like the monthly export, writes under a
temporary name, moves the finished file into place and only then points the row at
it; the previous file stays downloadable until then.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

import xlsxwriter
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config import stamps
from mentoring.pdf import render_pdf
from programmes import audit, freshness
from programmes.claims import claim_row
from programmes.models import AuditEvent, Programme

from . import exports, reports
from .models import BuildStatus, ReportFile
from .reports.base import Report

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ReportFile.Format.PDF: "application/pdf",
    ReportFile.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def files_stamp(programme_pk: int) -> str:
    """The stamp of the programme's report files: renewed whenever a file is asked for,
    starts, fails or is ready, so that a report page kept in the cache
    (``programmes.fragments``) shows its downloads as they stand."""
    if not freshness.enabled():
        return ""
    return stamps.read(_files_key(programme_pk))


def _files_key(programme_pk: int) -> str:
    return f"report-files-stamp:{programme_pk}"


def _files_changed(programme_pk: int) -> None:
    if freshness.enabled():
        stamps.renew_with_commit(_files_key(programme_pk))


def request_build(
    programme: Programme, report_key: str, fmt: str, *, actor=None, path: str = ""
) -> tuple[ReportFile, bool]:
    """Queue a build of one report's file; True if one was queued (a build already
    waiting or running is left to finish, so a double click makes one build)."""
    now = timezone.now()
    with transaction.atomic():
        report_file, created = ReportFile.objects.select_for_update().get_or_create(
            programme=programme, report=report_key, format=fmt
        )
        if not created and report_file.in_progress and not exports.is_stale(report_file, now):
            return report_file, False
        report_file.status = BuildStatus.QUEUED
        report_file.requested_by = actor if getattr(actor, "is_authenticated", False) else None
        report_file.requested_at = now
        report_file.error = ""
        report_file.save(update_fields=["status", "requested_by", "requested_at", "error"])
        _files_changed(programme.pk)
        audit.record(
            organisation=programme.organisation,
            actor=actor,
            action=AuditEvent.Action.EXPORT,
            obj=report_file,
            label=f"{report_key} report of {programme.name} as {fmt} requested",
            path=path,
        )
        from .tasks import build_report_file

        organisation_id = programme.organisation_id
        transaction.on_commit(lambda: build_report_file.delay(organisation_id, report_file.pk))
    return report_file, True


# --- Rendering ---------------------------------------------------------------------------


def pdf_bytes(programme: Programme, report: Report, built_at=None) -> bytes:
    context = {
        "programme": programme,
        "report": report,
        "built_at": built_at or timezone.now(),
        "pdf": True,
        **report.context,
    }
    return render_pdf("pdf/report.html", context)


def _sheet_name(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Table"
    candidate, n = name, 2
    while candidate.lower() in used:
        candidate = f"{name[:25]} {n}"
        n += 1
    used.add(candidate.lower())
    return candidate


def write_xlsx(programme: Programme, report: Report, path: Path, built_at=None) -> None:
    """An About sheet (what the report is, when it was built, what is missing, each
    table's note), then one sheet per table, cells exactly as the page shows them."""
    built_at = built_at or timezone.now()
    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    workbook.set_properties({"title": report.title, "author": "Legacy mentoring"})
    bold = workbook.add_format({"bold": True, "bg_color": "#E8EDEE", "bottom": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    try:
        about = workbook.add_worksheet("About")
        about.set_column(0, 0, 28)
        about.set_column(1, 1, 90)
        lines = [
            ("Report", report.title),
            ("Programme", programme.name),
            ("Built", f"{timezone.localtime(built_at):%d %B %Y %H:%M}"),
            (
                "Privacy",
                "Figures only: no names, e-mail addresses or free text. Counts from 1 to 7 "
                "are shown as <8.",
            ),
        ]
        lines += [("Not enough data", line) for line in report.missing]
        used = {"about"}
        sheets = []
        for table in report.tables:
            sheet_name = _sheet_name(table.title, used)
            sheets.append((sheet_name, table))
            lines.append((f"Sheet: {sheet_name}", f"{table.title}. {table.note}".strip()))
        for row, (label, text) in enumerate(lines):
            about.write_string(row, 0, label, bold if row == 0 else None)
            about.write_string(row, 1, text, wrap)
        for sheet_name, table in sheets:
            worksheet = workbook.add_worksheet(sheet_name)
            worksheet.freeze_panes(1, table.label_columns)
            worksheet.set_column(0, max(len(table.columns) - 1, 0), 16)
            worksheet.set_column(0, table.label_columns - 1, 30)
            worksheet.write_row(0, 0, table.columns, bold)
            for index, row in enumerate(table.rows, start=1):
                for col, cell in enumerate(row):
                    if cell is None:
                        continue
                    if isinstance(cell, bool) or not isinstance(cell, int | float):
                        worksheet.write_string(index, col, str(cell))
                    else:
                        worksheet.write_number(index, col, cell)
            if table.note:
                worksheet.write_string(len(table.rows) + 2, 0, table.note)
    finally:
        workbook.close()


# --- The build -----------------------------------------------------------------------------


def _file_name(report_file: ReportFile, build_id: str) -> str:
    return (
        f"reports/{report_file.programme.organisation_id}/{report_file.programme_id}/"
        f"{report_file.report}-{build_id[:12]}.{report_file.format}"
    )


def build(report_file_pk: int, build_id: str | None = None) -> ReportFile | None:
    """Build one report file; None if another build holds it. Runs inside the
    organisation's scope and is safe to run again with the same build id."""
    build_id = build_id or uuid.uuid4().hex
    now = timezone.now()
    report_file = ReportFile.objects.select_related("programme__organisation").get(
        pk=report_file_pk
    )
    if not claim_row(
        ReportFile,
        report_file.pk,
        ~Q(status=BuildStatus.BUILDING)
        | Q(build_id=build_id)
        | Q(build_started_at__lt=now - exports.STALE_AFTER),
        changes={
            "status": BuildStatus.BUILDING,
            "build_id": build_id,
            "build_started_at": now,
            "error": "",
        },
    ):
        return None
    _files_changed(report_file.programme_id)
    spec = reports.spec(report_file.report)
    store = exports.storage()
    part = exports.temp_dir(store) / f"{build_id}.{report_file.format}{exports.PART_SUFFIX}"
    try:
        if spec is None:
            raise ValueError(f"No report is called {report_file.report}")
        programme = report_file.programme
        report = spec.build(programme)
        if report_file.format == ReportFile.Format.PDF:
            part.write_bytes(pdf_bytes(programme, report, now))
        else:
            write_xlsx(programme, report, part, now)
        checksum, size = exports.sha256_of(part), part.stat().st_size
        name = exports.store_file(store, part, _file_name(report_file, build_id))
    except Exception as error:
        part.unlink(missing_ok=True)
        claim_row(
            ReportFile,
            report_file.pk,
            build_id=build_id,
            changes={"status": BuildStatus.FAILED, "error": str(error)[:300]},
        )
        _files_changed(report_file.programme_id)
        log.exception("report build failed", extra={"report_file": report_file.pk})
        raise
    old = report_file.file_name
    with transaction.atomic():
        finished = claim_row(
            ReportFile,
            report_file.pk,
            build_id=build_id,
            changes={
                "status": BuildStatus.READY,
                "file_name": name,
                "sha256": checksum,
                "bytes": size,
                "built_at": timezone.now(),
            },
        )
        if not finished:
            transaction.on_commit(lambda: exports.delete_files(store, [name]))
            return None
        _files_changed(report_file.programme_id)
        if old and old != name:
            transaction.on_commit(lambda: exports.delete_files(store, [old]))
    report_file.refresh_from_db()
    return report_file


def download_name(report_file: ReportFile) -> str:
    built = report_file.built_at or timezone.now()
    return (
        f"{report_file.programme.organisation.slug}-programme-{report_file.programme_id}-"
        f"{report_file.report}-{timezone.localtime(built):%Y-%m-%d}.{report_file.format}"
    )
