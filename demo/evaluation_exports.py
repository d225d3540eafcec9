"""Demo monthly export: last month's anonymised workbook of a programme, built now, so
the exports page has a file to download straight away.

Idempotent: a month already built is left as it is.
"""

from __future__ import annotations

from django_scopes import scope

from evaluation import exports
from evaluation.models import MonthlyExport
from programmes.models import Programme


def seed(programme: Programme) -> None:
    month = exports.previous_month()
    with scope(organisation=programme.organisation):
        export, _ = MonthlyExport.objects.get_or_create(
            programme=programme,
            month=month,
            defaults={"trigger": MonthlyExport.Trigger.SCHEDULE},
        )
        if export.status != MonthlyExport.Status.READY or not export.xlsx_name:
            exports.build_export(export.pk)
