"""On PostgreSQL the server binds query values and keeps a statement run often prepared
on its connection, so it is planned once per connection, not once per request
(``DATABASE_PREPARED_STATEMENTS``, docs/operations.md)."""

import pytest
from django.db import connection
from django_scopes import scope

from programmes.models import Trust

pytestmark = pytest.mark.django_db


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_query_run_often_is_planned_once_per_connection(cast):
    def trusts() -> list:
        with scope(organisation=cast.org):
            return list(Trust.objects.filter(pk__in=[cast.trust.pk, cast.other_trust_same_org.pk]))

    if connection.vendor != "postgresql":
        # SQLite has no server to keep plans: the option is PostgreSQL's alone.
        assert "prepare_threshold" not in connection.settings_dict.get("OPTIONS", {})
        assert len(trusts()) == 2
        return
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True
    assert not any('"programmes_trust"' in s for s in prepared_statements())
    for _ in range(8):
        assert len(trusts()) == 2
    [statement] = [s for s in prepared_statements() if '"programmes_trust"' in s]
    # Values are bound by the server: the statement holds placeholders, not the ids.
    assert '"programmes_trust"."id" IN ($2, $3)' in statement
