"""Programme set-up: programmes, criteria, cohorts, timelines and attendance."""

import datetime

from django_scopes import scopes_disabled

from programmes.models import Cohort, Milestone

from ..conftest import CANARY
from . import ADMIN, ALL, Case


def cohort_of(cast, side) -> Cohort:
    """A cohort with an orientation, made on first use, in the side's programme."""
    programme = cast.programme if side == "home" else cast.other_programme
    name = "Spring cohort" if side == "home" else f"Cohort {CANARY}"
    with scopes_disabled():
        cohort, _ = Cohort.objects.get_or_create(
            programme=programme,
            name=name,
            defaults={"starts_on": datetime.date(2026, 3, 2)},
        )
        Milestone.objects.get_or_create(
            cohort=cohort,
            kind=Milestone.Kind.ORIENTATION,
            defaults={"title": "Orientation", "due_on": cohort.starts_on, "compulsory": True},
        )
    return cohort


def programme_kwargs(cast, side) -> dict:
    return {"pk": (cast.programme if side == "home" else cast.other_programme).pk}


def programme_parent_kwargs(cast, side) -> dict:
    return {"programme_pk": programme_kwargs(cast, side)["pk"]}


def cohort_kwargs(cast, side) -> dict:
    cohort = cohort_of(cast, side)
    return {"programme_pk": cohort.programme_id, "pk": cohort.pk}


def cohort_parent_kwargs(cast, side) -> dict:
    cohort = cohort_of(cast, side)
    return {"programme_pk": cohort.programme_id, "cohort_pk": cohort.pk}


def milestone_kwargs(cast, side) -> dict:
    cohort = cohort_of(cast, side)
    with scopes_disabled():
        milestone = cohort.milestones.get(kind=Milestone.Kind.ORIENTATION)
    return {"programme_pk": cohort.programme_id, "cohort_pk": cohort.pk, "pk": milestone.pk}


CASES = {
    "programmes:programme_list": Case(ALL),
    "programmes:programme_create": Case(ADMIN),
    "programmes:programme_detail": Case(ALL, programme_kwargs),
    "programmes:programme_edit": Case(ADMIN, programme_kwargs),
    "programmes:programme_criteria": Case(ADMIN, programme_kwargs),
    "programmes:programme_timeline": Case(ALL, programme_kwargs),
    "programmes:cohort_create": Case(ADMIN, programme_parent_kwargs),
    "programmes:cohort_detail": Case(ALL, cohort_kwargs),
    "programmes:cohort_edit": Case(ADMIN, cohort_kwargs),
    "programmes:cohort_standard_timeline": Case(ADMIN, cohort_kwargs),
    "programmes:cohort_orientation_outstanding": Case(ADMIN, cohort_kwargs),
    "programmes:milestone_create": Case(ADMIN, cohort_parent_kwargs),
    "programmes:milestone_edit": Case(ADMIN, milestone_kwargs),
    "programmes:milestone_delete": Case(ADMIN, milestone_kwargs),
    "programmes:milestone_attendance": Case(ADMIN, milestone_kwargs),
}
