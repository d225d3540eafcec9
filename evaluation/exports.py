"""Building, storing and handing out the monthly anonymised export.

A build writes the workbook and the zip of CSVs under temporary names, then moves
each into place under a name of its own and only then points the export at them;
a build that dies part way leaves the previous export as it was. One export exists
per programme and month (a unique row); a build claims it with a conditional
update, so two builds of the same export never run at once, and the Celery task
that retries after a lost worker carries the same build id and may take it over.
Files live in the ``exports`` storage (a local folder outside the public media path
by default; any Django storage backend in production).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import logging
import os
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path

import xlsxwriter
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from config.links import absolute_url
from programmes import audit
from programmes.claims import claim_row
from programmes.models import AuditEvent, Programme, Role

from .models import MonthlyExport, ReportFile
from .workbook import Builder, Period, Sheet, first_month

log = logging.getLogger(__name__)

# A build not heard from for this long is taken to have died; another may take over.
STALE_AFTER = datetime.timedelta(minutes=30)
PART_SUFFIX = ".part"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def storage() -> Storage:
    return storages["exports"]


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(today: datetime.date | None = None) -> datetime.date:
    return month_start(today or timezone.localdate()) - relativedelta(months=1)


def available_months(programme: Programme, today: datetime.date | None = None):
    """Months an export can be asked for, newest first: from the programme's first month
    to the current one."""
    start = first_month(programme)
    months, cursor = [], month_start(today or timezone.localdate())
    while cursor >= start and len(months) < 120:
        months.append(cursor)
        cursor -= relativedelta(months=1)
    return months


def is_stale(export: MonthlyExport | ReportFile, now: datetime.datetime | None = None) -> bool:
    """A build asked for or started so long ago that it must have died (a monthly export
    or a report file: both record when they were asked for and started)."""
    started = export.build_started_at or export.requested_at
    return bool(export.in_progress and started and started < (now or timezone.now()) - STALE_AFTER)


# --- Asking for a build ----------------------------------------------------------------


def request_export(
    programme: Programme,
    month: datetime.date,
    *,
    actor=None,
    trigger: str = MonthlyExport.Trigger.REQUEST,
    path: str = "",
) -> tuple[MonthlyExport, bool]:
    """Queue a build of the programme's export for the month; True if one was queued.

    A build already waiting or running (and not stale) is left to finish, so pressing
    the button twice, or two schedulers, make one build.
    """
    month = month_start(month)
    now = timezone.now()
    with transaction.atomic():
        export, created = MonthlyExport.objects.select_for_update().get_or_create(
            programme=programme, month=month
        )
        if not created and export.in_progress and not is_stale(export, now):
            return export, False
        export.status = MonthlyExport.Status.QUEUED
        export.trigger = trigger
        export.requested_by = actor if getattr(actor, "is_authenticated", False) else None
        export.requested_at = now
        export.steps_done = 0
        export.error = ""
        export.save(
            update_fields=[
                "status",
                "trigger",
                "requested_by",
                "requested_at",
                "steps_done",
                "error",
            ]
        )
        audit.record(
            organisation=programme.organisation,
            actor=actor,
            action=AuditEvent.Action.EXPORT,
            obj=export,
            label=f"Monthly export {month:%Y-%m} of {programme.name} requested",
            path=path,
        )
        from .tasks import build_monthly_export

        organisation_id = programme.organisation_id
        transaction.on_commit(lambda: build_monthly_export.delay(organisation_id, export.pk))
    return export, True


# --- Writing the files -----------------------------------------------------------------


def _csv_safe(value):
    """Spreadsheet programs run a CSV cell that starts like a formula; quote it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_files(sheets: list[Sheet], xlsx_path: Path, zip_path: Path, on_sheet=None) -> dict:
    """Write every sheet to the workbook and, as one CSV each, to the zip.

    XlsxWriter's constant-memory mode flushes each row as it is written, so memory
    stays flat whatever the number of rows. Returns the rows written per sheet.
    """
    counts: dict[str, int] = {}
    workbook = xlsxwriter.Workbook(
        str(xlsx_path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties({"title": "Monthly anonymised export", "author": "Legacy mentoring"})
    bold = workbook.add_format({"bold": True, "bg_color": "#E8EDEE", "bottom": 1})
    try:
        with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for index, sheet in enumerate(sheets, start=1):
                worksheet = workbook.add_worksheet(sheet.name)
                worksheet.freeze_panes(1, 0)
                for col in range(len(sheet.columns)):
                    worksheet.set_column(col, col, sheet.widths.get(col, 18))
                header = [column.name for column in sheet.columns]
                worksheet.write_row(0, 0, header, bold)
                written = 0
                with archive.open(sheet.file_name, "w") as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                    writer = csv.writer(text)
                    writer.writerow(header)
                    for row in sheet.rows():
                        written += 1
                        worksheet.write_row(written, 0, row)
                        writer.writerow([_csv_safe(value) for value in row])
                    text.flush()
                    text.detach()
                counts[sheet.name] = written
                if on_sheet is not None:
                    on_sheet(index)
    finally:
        workbook.close()
    return counts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def temp_dir(store: Storage) -> Path:
    """Where builds write: inside a local storage's folder (so a rename moves the file
    into place), or the system's temporary folder for a remote storage."""
    if isinstance(store, FileSystemStorage):
        folder = Path(store.path("tmp"))
    else:
        folder = Path(tempfile.gettempdir()) / "mentoring-exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sweep_partial_files(store: Storage, older_than: datetime.timedelta = STALE_AFTER) -> int:
    """Remove temporary files that builds which died left behind."""
    cut_off = time.time() - older_than.total_seconds()
    removed = 0
    for path in temp_dir(store).glob(f"*{PART_SUFFIX}"):
        try:
            if path.stat().st_mtime < cut_off:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def store_file(store: Storage, local: Path, name: str) -> str:
    """Put a finished file in the storage under ``name``; return the name it got.

    A local folder gets an atomic rename, so the final path never holds part of a file;
    an object store writes an object only when its upload completes.
    """
    if isinstance(store, FileSystemStorage):
        target = Path(store.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local, target)
        return name
    with local.open("rb") as handle:
        stored = store.save(name, File(handle, name=os.path.basename(name)))
    local.unlink(missing_ok=True)
    return stored


def final_names(export: MonthlyExport, build: str) -> tuple[str, str]:
    base = (
        f"{export.programme.organisation_id}/{export.programme_id}/"
        f"{export.month:%Y-%m}-{build[:12]}"
    )
    return f"{base}.xlsx", f"{base}.zip"


# --- The build -------------------------------------------------------------------------


def build_export(export_pk: int, build_id: str | None = None) -> MonthlyExport | None:
    """Build one export. Runs inside the organisation's scope; None if another build
    holds it. Safe to run again: a retry with the same build id takes over its own claim.
    """
    build_id = build_id or uuid.uuid4().hex
    now = timezone.now()
    export = MonthlyExport.objects.select_related("programme__organisation").get(pk=export_pk)
    claimed = claim_row(
        MonthlyExport,
        export.pk,
        ~Q(status=MonthlyExport.Status.BUILDING)
        | Q(build_id=build_id)
        | Q(build_started_at__lt=now - STALE_AFTER),
        changes={
            "status": MonthlyExport.Status.BUILDING,
            "build_id": build_id,
            "build_started_at": now,
            "steps_done": 0,
            "error": "",
        },
    )
    if not claimed:
        log.info("export already building", extra={"export": export.pk})
        return None

    store = storage()
    sweep_partial_files(store)
    sheets = Builder(export.programme, export.month).sheets()
    claim_row(MonthlyExport, export.pk, build_id=build_id, changes={"steps_total": len(sheets)})

    temp = temp_dir(store)
    xlsx_part = temp / f"{build_id}.xlsx{PART_SUFFIX}"
    zip_part = temp / f"{build_id}.zip{PART_SUFFIX}"

    def progress(done: int) -> None:
        claim_row(MonthlyExport, export.pk, build_id=build_id, changes={"steps_done": done})

    try:
        counts = write_files(sheets, xlsx_part, zip_part, on_sheet=progress)
        xlsx_sha, zip_sha = sha256_of(xlsx_part), sha256_of(zip_part)
        size = xlsx_part.stat().st_size
        xlsx_name, zip_name = final_names(export, build_id)
        xlsx_name = store_file(store, xlsx_part, xlsx_name)
        zip_name = store_file(store, zip_part, zip_name)
    except Exception as error:
        xlsx_part.unlink(missing_ok=True)
        zip_part.unlink(missing_ok=True)
        claim_row(
            MonthlyExport,
            export.pk,
            build_id=build_id,
            changes={"status": MonthlyExport.Status.FAILED, "error": str(error)[:300]},
        )
        log.exception("export build failed", extra={"export": export.pk})
        raise

    old = (export.xlsx_name, export.csv_name)
    built_at = timezone.now()
    with transaction.atomic():
        finished = claim_row(
            MonthlyExport,
            export.pk,
            build_id=build_id,
            changes={
                "status": MonthlyExport.Status.READY,
                "xlsx_name": xlsx_name,
                "csv_name": zip_name,
                "xlsx_sha256": xlsx_sha,
                "csv_sha256": zip_sha,
                "xlsx_bytes": size,
                "row_counts": counts,
                "built_at": built_at,
                "steps_done": len(sheets),
                "notified_at": None,
            },
        )
        if not finished:
            # Another build took over after this one was thought dead: keep its files.
            transaction.on_commit(lambda: delete_files(store, (xlsx_name, zip_name)))
            return None
        transaction.on_commit(lambda: delete_files(store, [n for n in old if n]))
        from .tasks import notify_export_ready

        organisation_id = export.programme.organisation_id
        transaction.on_commit(
            lambda: notify_export_ready.delay(organisation_id, export.pk, build_id)
        )
    export.refresh_from_db()
    return export


def delete_files(store: Storage, names: Iterable[str]) -> None:
    for name in names:
        try:
            store.delete(name)
        except OSError:
            log.warning("could not delete an old export file", extra={"file": name})


# --- Telling people ----------------------------------------------------------------------


def notify_ready(export_pk: int, build_id: str) -> int:
    """E-mail that the export is ready: once per build, however often this runs.

    A person's request tells that person; the monthly build tells the organisation's
    admins and evaluators. The e-mail carries a link, never data.
    """
    if not claim_row(
        MonthlyExport,
        export_pk,
        build_id=build_id,
        notified_at__isnull=True,
        status=MonthlyExport.Status.READY,
        changes={"notified_at": timezone.now()},
    ):
        return 0
    export = MonthlyExport.objects.select_related("programme__organisation", "requested_by").get(
        pk=export_pk
    )
    organisation = export.programme.organisation
    if export.trigger == MonthlyExport.Trigger.REQUEST and export.requested_by:
        recipients = [export.requested_by.email]
    else:
        recipients = sorted(
            set(
                organisation.memberships.filter(role__in=[Role.ADMIN, Role.EVALUATOR]).values_list(
                    "user__email", flat=True
                )
            )
        )
    if not recipients:
        return 0
    link = absolute_url(
        reverse(
            "evaluation:export_detail",
            args=[organisation.slug, export.programme_id, export.pk],
        )
    )
    subject = f"Monthly export ready: {export.programme.name}, {export.month:%B %Y}"
    body = (
        f"The anonymised export of {export.programme.name} for {export.month:%B %Y} is "
        f"ready.\n\nSign in to download it:\n{link}\n\n"
        "The file holds pseudonymous keys only: no names, e-mail addresses or free text."
    )
    # One message each (nobody sees who else was told), over one connection.
    send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in recipients]
    )
    return len(recipients)


# --- Scheduled builds --------------------------------------------------------------------


def queue_scheduled_builds(organisation, month: datetime.date) -> int:
    """The monthly job for one organisation: queue each active programme's export.

    An export already built after the month ended is left alone, so a second
    scheduler, or the job run twice, builds nothing more.
    """
    period = Period(month)
    built = MonthlyExport.objects.filter(
        programme__organisation=organisation,
        month=period.start,
        status=MonthlyExport.Status.READY,
        built_at__gte=period.end_at,
    ).values("programme_id")
    programmes = (
        organisation.programmes.filter(status=Programme.Status.ACTIVE)
        .exclude(pk__in=built)
        .order_by("pk")
    )
    queued = 0
    for programme in programmes:
        programme.organisation = organisation
        _, started = request_export(programme, period.start, trigger=MonthlyExport.Trigger.SCHEDULE)
        queued += int(started)
    return queued


# --- Downloads ---------------------------------------------------------------------------


def downloaders(exports: Iterable[MonthlyExport], organisation) -> dict[int, list[str]]:
    """Who has downloaded each export, from the audit trail, in one query."""
    ids = [str(export.pk) for export in exports]
    found: dict[int, list[str]] = {}
    events = (
        AuditEvent.objects.filter(
            organisation=organisation,
            action=AuditEvent.Action.DOWNLOAD,
            object_type="monthlyexport",
            object_id__in=ids,
        )
        .order_by("at")
        .values_list("object_id", "actor__full_name", "actor__email")
    )
    for object_id, name, email in events:
        who = name or email or "A person since removed"
        names = found.setdefault(int(object_id), [])
        if who not in names:
            names.append(who)
    return found
