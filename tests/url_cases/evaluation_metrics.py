"""Organisational metrics and comparison groups: evaluators read, the admin changes.

The import confirmations answer a GET by sending the person back to the upload page
(302); the imports themselves are tested in tests/test_organisational_metrics.py and
tests/test_retention.py.
"""

from django_scopes import scope

from . import ADMIN, Case

READERS = ("owner", "evaluator")


def _programme(cast, side):
    return cast.programme if side == "home" else cast.other_programme


def programme(cast, side):
    return {"programme_pk": _programme(cast, side).pk}


def group(cast, side):
    from evaluation.models import ComparisonGroup

    chosen = _programme(cast, side)
    with scope(organisation=chosen.organisation):
        found, _ = ComparisonGroup.objects.get_or_create(
            programme=chosen, name=f"Comparison of {chosen.pk}"
        )
    return {"programme_pk": chosen.pk, "pk": found.pk}


CASES = {
    "evaluation:metrics_list": Case(READERS, programme),
    "evaluation:metrics_baseline": Case(ADMIN, programme),
    "evaluation:metrics_enter": Case(ADMIN, programme),
    "evaluation:metrics_import": Case(ADMIN, programme),
    "evaluation:metrics_import_confirm": Case(ADMIN, programme, ok_status=302),
    "evaluation:comparison_create": Case(ADMIN, programme),
    "evaluation:comparison_detail": Case(READERS, group),
    "evaluation:comparison_member_add": Case(ADMIN, group),
    "evaluation:comparison_import": Case(ADMIN, group),
    "evaluation:comparison_import_confirm": Case(ADMIN, group, ok_status=302),
    "evaluation:comparison_delete": Case(ADMIN, group),
}
