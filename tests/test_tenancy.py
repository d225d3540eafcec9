import pytest
from django.apps import apps
from django.db import models
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from programmes.models import Organisation, Trust

pytestmark = pytest.mark.django_db


def _holds_organisation(model, seen=()) -> bool:
    """Has a foreign key to Organisation, directly or through a required parent."""
    for field in model._meta.get_fields():
        if not isinstance(field, models.ForeignKey):
            continue
        if field.related_model is Organisation:
            return True
        parent = field.related_model
        if (
            not field.null
            and parent not in seen
            and parent is not model
            and _holds_organisation(parent, (*seen, model))
        ):
            return True
    return False


def test_every_model_holding_an_organisation_has_a_scoped_manager():
    tenant_models = [m for m in apps.get_models() if _holds_organisation(m)]
    assert Trust in tenant_models
    unscoped = [
        m._meta.label
        for m in tenant_models
        if not hasattr(m._default_manager, "with_scopes_disabled")
    ]
    assert unscoped == []


def test_an_unscoped_query_on_a_tenant_model_fails_loudly(cast):
    with pytest.raises(ScopeError):
        list(Trust.objects.all())


def test_a_scoped_query_returns_only_that_organisations_rows(cast):
    with scope(organisation=cast.org):
        names = set(Trust.objects.values_list("name", flat=True))
    assert names == {"Home General Hospital", "Home Coastal Hospital"}


def test_lead_nurse_with_no_trust_sees_no_trust(cast, rf):
    from programmes.access import Access

    with scope(organisation=cast.org):
        memberships = cast.org.memberships.filter(user=cast.lead_without_trusts)
        access = Access.from_memberships(cast.org, memberships)
        assert list(access.visible_trusts()) == []


def test_lead_nurse_sees_only_the_trusts_they_cover(cast):
    from programmes.access import Access

    with scope(organisation=cast.org):
        access = Access.from_memberships(cast.org, cast.org.memberships.filter(user=cast.colleague))
        assert list(access.visible_trusts()) == [cast.trust]
        assert access.can_see_trust(cast.trust)
        assert not access.can_see_trust(cast.other_trust_same_org)


def test_admin_sees_every_trust_of_their_organisation_only(cast):
    from programmes.access import Access

    with scope(organisation=cast.org):
        access = Access.from_memberships(cast.org, cast.org.memberships.filter(user=cast.owner))
        assert set(access.visible_trusts()) == {cast.trust, cast.other_trust_same_org}


def test_pseudonyms_are_stable_and_differ_between_organisations(cast):
    first = cast.org.pseudonym("mentee@home.test")
    assert first == cast.org.pseudonym("  Mentee@Home.test ")
    assert first != cast.other_org.pseudonym("mentee@home.test")
    assert "mentee" not in first.lower()


def test_organisation_task_runs_inside_the_organisations_scope(cast):
    from config.celery_app import OrganisationTask, app

    @app.task(base=OrganisationTask)
    def count_trusts(organisation):
        return Trust.objects.count()

    assert count_trusts.apply(args=[cast.org.pk]).get() == 2
    assert count_trusts.apply(args=[cast.other_org.pk]).get() == 1
