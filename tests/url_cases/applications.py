"""Expressions of interest: the public application page and the admin's review."""

from django_scopes import scopes_disabled

from . import ADMIN, Case


def _programme(cast, side):
    return cast.programme if side == "home" else cast.other_programme


def _application(cast, side):
    """A submitted mentee application on the side's programme, made on first use."""
    from programmes.models import Application

    programme = _programme(cast, side)
    applicant = cast.mentee if side == "home" else cast.other_admin
    with scopes_disabled():
        cohort, _ = programme.cohorts.get_or_create(name="Matrix cohort")
        application, _ = Application.objects.get_or_create(
            programme=programme,
            cohort=cohort,
            applicant=applicant,
            side=Application.Side.MENTEE,
            defaults={"statement": "Matrix statement"},
        )
    return application


def _programme_kwargs(cast, side):
    return {"programme_pk": _programme(cast, side).pk}


def _application_kwargs(cast, side):
    application = _application(cast, side)
    return {"programme_pk": application.programme_id, "pk": application.pk}


CASES = {
    "programmes:application_list": Case(ADMIN, _programme_kwargs),
    "programmes:application_detail": Case(ADMIN, _application_kwargs),
    "programmes:application_decide": Case(ADMIN, _application_kwargs),
}

PUBLIC_URLS = {
    "apply": "tests/test_applications.py::test_public_application_page_opens_without_signing_in",
}
