"""The monthly anonymised exports and the evaluation reports: the admin's and
evaluators' only.

Each side's programme gets one export row for the current month. The status (JSON
for the page's poll) and the downloads (with ?download=1) send a person who opens
them by hand to the export's page, so those answer 302; the downloads themselves are
tested in tests/test_monthly_export.py.
"""

from django.utils import timezone
from django_scopes import scope

from . import Case

READERS = ("owner", "evaluator")


def _programme(cast, side):
    return cast.programme if side == "home" else cast.other_programme


def _export(cast, side):
    from evaluation.models import MonthlyExport

    programme = _programme(cast, side)
    with scope(organisation=programme.organisation):
        export, _ = MonthlyExport.objects.get_or_create(
            programme=programme, month=timezone.localdate().replace(day=1)
        )
    return export


def programme(cast, side):
    return {"programme_pk": _programme(cast, side).pk}


def export(cast, side):
    return {"programme_pk": _programme(cast, side).pk, "pk": _export(cast, side).pk}


CASES = {
    "evaluation:export_list": Case(READERS, programme),
    "evaluation:export_detail": Case(READERS, export),
    "evaluation:export_status": Case(READERS, export, ok_status=302),
    "evaluation:export_xlsx": Case(READERS, export, ok_status=302),
    "evaluation:export_csv": Case(READERS, export, ok_status=302),
    "evaluation:outcomes": Case(READERS, programme),
}


def report_file(cast, side):
    return {**programme(cast, side), "report": "outcomes", "fmt": "pdf"}


# Report pages are listed by their own modules; the index and the file links here.
# A file link opened by hand (and its status without asking for JSON) goes to the page.
CASES |= {
    "evaluation:report_index": Case(READERS, programme),
    "evaluation:report_file": Case(READERS, report_file, ok_status=302),
    "evaluation:report_file_status": Case(READERS, report_file, ok_status=302),
}


def logic_model_entry(cast, side):
    from evaluation.models import LogicModelEntry

    programme = _programme(cast, side)
    with scope(organisation=programme.organisation):
        entry, _ = LogicModelEntry.objects.get_or_create(
            programme=programme, column="outputs", text="Mentees matched"
        )
    return {"programme_pk": programme.pk, "pk": entry.pk}


CASES |= {
    "evaluation:logic_model": Case(READERS, programme),
    "evaluation:logic_model_edit": Case(("owner",), programme),
    # Actions taken by POST send a GET to the logic model's page.
    "evaluation:logic_model_template": Case(("owner",), programme, ok_status=302),
    "evaluation:logic_model_entry_move": Case(("owner",), logic_model_entry, ok_status=302),
    "evaluation:logic_model_entry_edit": Case(("owner",), logic_model_entry),
    "evaluation:logic_model_entry_delete": Case(("owner",), logic_model_entry),
}
