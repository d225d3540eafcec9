"""The monthly anonymised exports: the admin's and evaluators' only.

Each side's programme gets one export for the current month (its row only: the
pages and the status answer for an export with no file yet; a download of one
with no file is a 404 for everyone, so the home side gets a built file).
"""

from django.utils import timezone
from django_scopes import scope

from . import Case

READERS = ("owner", "evaluator")


def _programme(cast, side):
    return cast.programme if side == "home" else cast.other_programme


def _export(cast, side, *, built=False):
    from evaluation import exports
    from evaluation.models import MonthlyExport

    programme = _programme(cast, side)
    with scope(organisation=programme.organisation):
        export, _ = MonthlyExport.objects.get_or_create(
            programme=programme, month=timezone.localdate().replace(day=1)
        )
        if built and not export.xlsx_name:
            export = exports.build_export(export.pk)
    return export


def programme(cast, side):
    return {"programme_pk": _programme(cast, side).pk}


def export(cast, side):
    return {"programme_pk": _programme(cast, side).pk, "pk": _export(cast, side).pk}


def built_export(cast, side):
    return {"programme_pk": _programme(cast, side).pk, "pk": _export(cast, side, built=True).pk}


CASES = {
    "evaluation:export_list": Case(READERS, programme),
    "evaluation:export_detail": Case(READERS, export),
    # JSON for the page's poll (Accept: application/json); a person opening it is sent
    # to the export's page.
    "evaluation:export_status": Case(READERS, export, ok_status=302),
    # Without ?download=1 the download links go to the export's page.
    "evaluation:export_xlsx": Case(READERS, built_export, ok_status=302),
    "evaluation:export_csv": Case(READERS, built_export, ok_status=302),
}

CASES["evaluation:outcomes"] = Case(READERS, programme)
