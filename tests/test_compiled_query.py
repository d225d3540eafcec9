"""config.compiled.CompiledQuery: a queryset shape compiled once, then run with each
call's values, gives the same instances as the queryset itself."""

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from config.compiled import CompiledQuery
from mentoring.models import Mentee
from programmes.models import Trust

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


def mentees(pk):
    return (
        Mentee.objects.filter(pk=pk)
        .select_related("programme__organisation", "trust")
        .annotate(organisation_pk=F("programme__organisation_id"))
        .order_by()
    )


def test_a_compiled_query_gives_what_the_queryset_gives(cast):
    query = CompiledQuery(Mentee, mentees)
    with scopes_disabled():
        for mentee in (cast.mentee_record, cast.foreign_mentee, cast.mentee_other_trust):
            expected = mentees(mentee.pk).get()
            found = query.first(mentee.pk)
            assert fields_of(found) == fields_of(expected)
            assert found.organisation_pk == mentee.programme.organisation_id
            assert fields_of(found.programme) == fields_of(expected.programme)
            assert found.programme.organisation == expected.programme.organisation
            assert found.trust == expected.trust
            assert not found._state.adding
            assert found._state.db == "default"
        assert query.first(-1) is None


def test_it_is_compiled_once_and_then_runs_one_query(cast):
    query = CompiledQuery(Mentee, mentees)
    with scopes_disabled():
        query.first(cast.mentee_record.pk)
        with CaptureQueriesContext(connection) as queries:
            found = query.first(cast.foreign_mentee.pk)
            assert found.programme.organisation == cast.other_org
    [only] = queries.captured_queries
    assert str(cast.foreign_mentee.pk) in only["sql"]


def test_a_locked_read_runs_through_the_orm_inside_its_transaction(cast):
    def locked(pk):
        return Mentee.objects.filter(pk=pk).select_related("trust").select_for_update(of=("self",))

    query = CompiledQuery(Mentee, locked)
    with scopes_disabled(), transaction.atomic():
        found = query.first(cast.mentee_record.pk)
    assert found.trust == cast.trust
    if connection.features.has_select_for_update:
        with scopes_disabled(), CaptureQueriesContext(connection) as queries, transaction.atomic():
            query.first(cast.mentee_record.pk)
        assert any("FOR UPDATE" in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_a_locked_read_is_refused_outside_a_transaction_as_the_orm_refuses_it(cast):
    def locked(pk):
        return Mentee.objects.filter(pk=pk).select_for_update(of=("self",))

    query = CompiledQuery(Mentee, locked)
    with scopes_disabled():
        with transaction.atomic():
            assert query.first(cast.mentee_record.pk) == cast.mentee_record
        if connection.features.has_select_for_update:
            with pytest.raises(TransactionManagementError):
                query.first(cast.mentee_record.pk)
        else:
            # SQLite takes no row locks: the ORM runs the read anywhere, and so does this.
            assert query.first(cast.mentee_record.pk) == cast.mentee_record


def test_a_shape_it_cannot_compile_runs_through_the_orm(cast):
    """Values that do not all become parameters (here one is a slice, another a
    values() query): the queryset runs as usual, every time, with the right answer."""
    by_name = CompiledQuery(Trust, lambda name: Trust.objects.filter(name=name).values("pk"))
    with scopes_disabled():
        assert by_name.first(cast.trust.name) == {"pk": cast.trust.pk}
        assert by_name._compiled["default"] is None

    def nth(position):
        return Trust.objects.order_by("pk")[position : position + 1]

    sliced = CompiledQuery(Trust, nth)
    with scopes_disabled():
        ordered = list(Trust.objects.order_by("pk"))
        assert sliced.first(1) == ordered[1]
        assert sliced.first(0) == ordered[0]
        assert sliced._compiled["default"] is None
