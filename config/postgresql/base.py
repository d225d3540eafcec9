"""Django's PostgreSQL backend, with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django checks a kept connection before each request uses
it, by sending ``SELECT 1`` and waiting for the answer: one round trip to PostgreSQL
on every request, as long as many pages' own work. A connection at rest has nothing
to read, unless the server has ended it (a restart, a shutdown, a backend
terminated): it then sends why and closes its end, and the socket becomes readable.
So a kept connection, idle between requests, is checked by asking the operating
system, without waiting, whether its socket has anything to read; any other
connection is checked as Django checks it. A connection found unusable is closed
and the request opens a new one, as before.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        try:
            readable, _, failed = select.select([connection.fileno()], [], [connection.fileno()], 0)
        except (OSError, ValueError):
            return False
        return not readable and not failed
