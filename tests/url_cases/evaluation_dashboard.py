"""The programme dashboard and equity monitoring: the admin's and evaluators' only."""

from . import Case

READERS = ("owner", "evaluator")


def programme(cast, side):
    chosen = cast.programme if side == "home" else cast.other_programme
    return {"programme_pk": chosen.pk}


CASES = {
    "evaluation:dashboard": Case(READERS, programme),
    "evaluation:equity": Case(READERS, programme),
}
