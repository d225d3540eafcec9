"""The cohort indicators report: the admin's and evaluators' only; another
organisation's programme answers 404."""

from . import Case

READERS = ("owner", "evaluator")


def programme_kwargs(cast, side):
    programme = cast.programme if side == "home" else cast.other_programme
    return {"programme_pk": programme.pk}


CASES = {"evaluation:cohort": Case(READERS, programme_kwargs)}
