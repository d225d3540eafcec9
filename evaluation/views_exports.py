"""The monthly anonymised export: the list of months built, a build asked for now, its
progress, and the downloads.

For the organisation admin (project lead) and evaluators. Anyone else, and any
programme or export of another organisation, gets the same 404 as a page that does
not exist. Every download is recorded in the audit trail; the files are never served
from a public path.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from programmes import audit
from programmes.access import programme_for, role_required
from programmes.models import AuditEvent, Programme, Role

from . import exports
from .forms import ExportRequestForm
from .models import MonthlyExport

NOT_FOUND = "No such page in this organisation."
READERS = (Role.ADMIN, Role.EVALUATOR)


def _export(programme: Programme, pk) -> MonthlyExport:
    export = programme.monthly_exports.filter(pk=pk).first()
    if export is None:
        raise Http404(NOT_FOUND)
    export.programme = programme
    return export


@role_required(*READERS)
def export_list(request, organisation_slug, programme_pk):
    """The months built so far, and a form to build one now."""
    programme = programme_for(request, programme_pk)
    months = exports.available_months(programme)
    form = ExportRequestForm(request.POST or None, months=months)
    if request.method == "POST" and form.is_valid():
        export, queued = exports.request_export(
            programme, form.cleaned_data["month"], actor=request.user, path=request.path
        )
        if not queued:
            messages.info(request, f"The {export.label} export is already being built.")
        return redirect(
            "evaluation:export_detail", request.organisation.slug, programme.pk, export.pk
        )
    rows = list(programme.monthly_exports.select_related("requested_by").order_by("-month"))
    who = exports.downloaders(rows, request.organisation)
    for export in rows:
        export.programme = programme
        export.downloaded_by = who.get(export.pk, [])
        export.stale = exports.is_stale(export)
    return render(
        request,
        "evaluation/exports/export_list.html",
        {"programme": programme, "exports": rows, "form": form},
    )


@role_required(*READERS)
def export_detail(request, organisation_slug, programme_pk, pk):
    """One month's export: its progress while building, then its sheets and downloads."""
    programme = programme_for(request, programme_pk)
    export = _export(programme, pk)
    return render(
        request,
        "evaluation/exports/export_detail.html",
        {
            "programme": programme,
            "export": export,
            "stale": exports.is_stale(export),
            "downloaded_by": exports.downloaders([export], request.organisation).get(export.pk, []),
        },
    )


@require_GET
@role_required(*READERS)
def export_status(request, organisation_slug, programme_pk, pk):
    """Progress for the page to poll: no personal data, only the build's state.

    Only a request that asks for JSON gets it; a person who opens the link is taken to
    the export's page."""
    programme = programme_for(request, programme_pk)
    export = _export(programme, pk)
    if "application/json" not in request.headers.get("Accept", ""):
        return redirect(
            "evaluation:export_detail", request.organisation.slug, programme.pk, export.pk
        )
    response = JsonResponse(
        {
            "status": export.status,
            "steps_done": export.steps_done,
            "steps_total": export.steps_total,
            "ready": export.status == MonthlyExport.Status.READY,
            "stale": exports.is_stale(export),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@role_required(*READERS)
def export_download(request, organisation_slug, programme_pk, pk, kind):
    """The workbook (.xlsx) or the zip of CSVs, with ``?download=1``; recorded in the audit
    trail. Without it (a link opened by hand, a page checker) it goes to the export's page."""
    programme = programme_for(request, programme_pk)
    export = _export(programme, pk)
    if request.GET.get("download") != "1":
        return redirect(
            "evaluation:export_detail", request.organisation.slug, programme.pk, export.pk
        )
    name = export.xlsx_name if kind == "xlsx" else export.csv_name
    if not name:
        raise Http404(NOT_FOUND)
    store = exports.storage()
    try:
        handle = store.open(name, "rb")
    except FileNotFoundError:
        raise Http404("The file of this export is missing; build it again.") from None
    audit.record_request(
        request,
        AuditEvent.Action.DOWNLOAD,
        obj=export,
        label=f"Monthly export {export.month:%Y-%m} of {programme.name} ({kind})",
        fields=[kind],
    )
    extension = "xlsx" if kind == "xlsx" else "zip"
    response = FileResponse(
        handle, as_attachment=True, filename=f"{export.file_stem()}.{extension}"
    )
    response["Cache-Control"] = "private, no-store"
    if kind == "xlsx":
        response["Content-Type"] = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    return response
