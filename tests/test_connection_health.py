"""A kept PostgreSQL connection is checked before a request reuses it by asking its
socket, not the server (config/postgresql/base.py): one the server has ended is found
unusable and replaced; one at rest is used again; one inside a transaction is checked
as Django checks it."""

import time

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.postgresql import base as postgresql_base
from psycopg import pq

pytestmark = pytest.mark.django_db(transaction=True)


def ended_by_the_server(pid: int) -> None:
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()


def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it():
    if connection.vendor != "postgresql":
        # SQLite has no server to end a connection: Django's own backend is used.
        assert connection.settings_dict["ENGINE"] == "django.db.backends.sqlite3"
        return
    assert connection.settings_dict["ENGINE"] == "config.postgresql"
    connection.ensure_connection()
    assert connection.is_usable()
    pid = connection.connection.info.backend_pid

    ended_by_the_server(pid)
    for _ in range(100):
        if not connection.is_usable():
            break
        time.sleep(0.05)
    assert not connection.is_usable()

    # As at the start of a request on a kept connection: checked, closed, opened again.
    connection.health_check_enabled = True
    connection.health_check_done = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
    assert connection.is_usable()


def test_a_connection_at_rest_is_used_again_unasked_and_one_in_a_transaction_is_asked(
    monkeypatch,
):
    if connection.vendor != "postgresql":
        assert connection.settings_dict["ENGINE"] == "django.db.backends.sqlite3"
        return
    asked = []
    ask_the_server = postgresql_base.DatabaseWrapper.is_usable

    def asking(self):
        asked.append(self.connection.info.transaction_status)
        return ask_the_server(self)

    monkeypatch.setattr(postgresql_base.DatabaseWrapper, "is_usable", asking)
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    connection.health_check_enabled = True
    connection.health_check_done = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == pid
    assert asked == []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert connection.is_usable()
    assert asked == [pq.TransactionStatus.INTRANS]
