"""Evaluation reports, for the organisation admin and evaluators: figures only, every
person a pseudonym, small counts suppressed.

Every report is one page built by its module in ``evaluation.reports``; the same
report object gives its PDF and its .xlsx (``evaluation.report_files``), built in the
background. Downloads are authorised, scoped and recorded in the audit trail.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from programmes import audit, fragments
from programmes.access import programme_for, role_required
from programmes.models import AuditEvent

from . import exports, report_cache, report_files, reports
from .models import ReportFile
from .views_exports import NOT_FOUND, READERS


def _spec(report: str) -> reports.ReportSpec:
    spec = reports.spec(report)
    if spec is None:
        raise Http404(NOT_FOUND)
    return spec


def _format(fmt: str) -> str:
    if fmt not in ReportFile.Format.values:
        raise Http404(NOT_FOUND)
    return fmt


def _page_url(request, programme, spec) -> str:
    return reverse(f"evaluation:{spec.key}", args=[request.organisation.slug, programme.pk])


@role_required(*READERS)
def report_index(request, organisation_slug, programme_pk):
    """Every report of the programme, and where its figures come from."""
    programme = programme_for(request, programme_pk)
    return render(
        request,
        "evaluation/reports/index.html",
        {"programme": programme, "specs": reports.specs()},
    )


@require_http_methods(["GET", "POST"])
@role_required(*READERS)
def report_page(request, organisation_slug, programme_pk, report):
    """One report of one programme, with its downloads.

    POST (the page's "Work out the figures again") does nothing itself: like every form
    sent in an organisation, it ends in DataChangeMiddleware renewing the organisation's
    stamp (``programmes.freshness``), so the report is worked out on the GET it is
    redirected to."""
    spec = _spec(report)
    if request.method == "POST":
        programme = programme_for(request, programme_pk)
        messages.success(request, "The figures have been worked out again.")
        return redirect(_page_url(request, programme, spec))

    def build() -> str:
        programme = programme_for(request, programme_pk)
        files = {f.format: f for f in programme.report_files.filter(report=spec.key)}
        downloads = []
        for fmt, label in ReportFile.Format.choices:
            found = files.get(fmt)
            downloads.append(
                {
                    "format": fmt,
                    "label": label,
                    "file": found,
                    "stale": bool(found and exports.is_stale(found)),
                }
            )
        return fragments.page_html(
            request,
            "evaluation/reports/page.html",
            lambda: {
                "programme": programme,
                "spec": spec,
                "body": report_cache.body(request, programme, spec),
                "downloads": downloads,
            },
        )

    # Kept for each reader (``programmes.fragments``) under the organisation's stamp;
    # the files' builds are not the organisation's data and have a stamp of their own.
    vary = (programme_pk, report_files.files_stamp(programme_pk))
    html = fragments.kept_for_reader(request, f"report:{spec.key}", vary, build)
    return fragments.page_response(request, html)


@require_http_methods(["GET", "POST"])
@role_required(*READERS)
def report_file(request, organisation_slug, programme_pk, report, fmt):
    """POST builds the report's PDF or workbook in the background; GET with
    ``?download=1`` hands out the last one built. A link opened by hand goes to the
    report's page."""
    programme = programme_for(request, programme_pk)
    spec, fmt = _spec(report), _format(fmt)
    page = _page_url(request, programme, spec)
    if request.method == "POST":
        built, queued = report_files.request_build(
            programme, spec.key, fmt, actor=request.user, path=request.path
        )
        label = built.get_format_display()
        if queued:
            messages.success(request, f"The {label} of this report is being built.")
        else:
            messages.info(request, f"The {label} of this report is already being built.")
        return redirect(f"{page}#downloads")
    if request.GET.get("download") != "1":
        return redirect(page)
    found = programme.report_files.filter(report=spec.key, format=fmt).first()
    if found is None or not found.file_name:
        raise Http404(NOT_FOUND)
    found.programme = programme
    try:
        handle = exports.storage().open(found.file_name, "rb")
    except FileNotFoundError:
        raise Http404("The file of this report is missing; build it again.") from None
    audit.record_request(
        request,
        AuditEvent.Action.DOWNLOAD,
        obj=found,
        label=f"{spec.title} of {programme.name} ({fmt})",
        fields=[fmt],
    )
    response = FileResponse(handle, as_attachment=True, filename=report_files.download_name(found))
    response["Content-Type"] = report_files.CONTENT_TYPES[fmt]
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@role_required(*READERS)
def report_file_status(request, organisation_slug, programme_pk, report, fmt):
    """The build's state for the page to poll; a person opening it goes to the page."""
    programme = programme_for(request, programme_pk)
    spec, fmt = _spec(report), _format(fmt)
    if "application/json" not in request.headers.get("Accept", ""):
        return redirect(_page_url(request, programme, spec))
    found = programme.report_files.filter(report=spec.key, format=fmt).first()
    if found is None:
        raise Http404(NOT_FOUND)
    response = JsonResponse(
        {
            "status": found.status,
            "ready": found.status == ReportFile.Status.READY,
            "stale": exports.is_stale(found),
        }
    )
    response["Cache-Control"] = "no-store"
    return response
