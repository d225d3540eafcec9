"""Evaluation reports, for the organisation admin and evaluators: figures only, every
person a pseudonym, small counts suppressed.

Every report is one page built by its module in ``evaluation.reports``; the same
report object gives the PDF and the .xlsx (``evaluation.report_files``).
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from programmes.access import programme_for, role_required

from . import reports
from .views_exports import NOT_FOUND, READERS


def _spec(report: str) -> reports.ReportSpec:
    spec = reports.spec(report)
    if spec is None:
        raise Http404(NOT_FOUND)
    return spec


@role_required(*READERS)
def report_page(request, organisation_slug, programme_pk, report):
    """One report of one programme, with its downloads."""
    programme = programme_for(request, programme_pk)
    spec = _spec(report)
    built = spec.build(programme)
    files = {f.format: f for f in programme.report_files.filter(report=spec.key)}
    return render(
        request,
        "evaluation/reports/page.html",
        {"programme": programme, "spec": spec, "report": built, "files": files, **built.context},
    )
