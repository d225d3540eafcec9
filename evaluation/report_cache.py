"""Report pages from the cache: each report is worked out once, then read by everyone
who opens it until its organisation's data changes (``programmes.freshness``) or
REPORT_PAGE_SECONDS pass, whichever comes first.

What is cached is the report's body as rendered HTML, with the lines that say what data
is missing and when it was worked out. The body is the same for every reader of the
programme's reports except for the few links offered to organisation admins, so admins
and other readers have a copy each. The PDF and the workbook are always built from the
data as it stands (``evaluation.report_files``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from programmes import fragments

from .reports import ReportSpec

# Part of every key: changed when what is cached changes shape.
BODY_FORMAT = 1


@dataclass(frozen=True)
class Body:
    html: SafeString
    missing: list[str]
    worked_out_at: object  # an aware datetime

    @property
    def fresh_for_minutes(self) -> int:
        return max(1, settings.REPORT_PAGE_SECONDS // 60)


def body(request, programme, spec: ReportSpec) -> Body:
    """The report's body for this reader, kept as ``programmes.fragments`` keeps a part
    of a page, or worked out now."""

    def build() -> Body:
        report = spec.build(programme)
        html = render_to_string(
            report.template,
            {"programme": programme, "spec": spec, "report": report, **report.context},
            request=request,
        )
        return Body(html, list(report.missing), timezone.now())

    vary = (
        BODY_FORMAT,
        programme.pk,
        # A programme made again with the same id (a restored database) is another one.
        programme.created_at.timestamp(),
        "admin" if request.access.is_admin else "reader",
    )
    kept = fragments.kept(request, f"report-page:{spec.key}", vary, build)
    return Body(mark_safe(kept.html), kept.missing, kept.worked_out_at)  # noqa: S308
