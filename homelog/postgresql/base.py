"""Django's PostgreSQL backend, reading timestamps with psycopg's C loader and checking idle connections
without a round trip.

Django registers a loader of its own for `timestamptz`, a Python subclass of psycopg's, only to set the
tzinfo of each value to the connection's time zone; being Python, it costs several microseconds a value,
about a fifth of the time of a readings page. Django sets the session's TimeZone to its own zone, and
psycopg's loader already gives each value the session's zone, so where both are UTC (USE_TZ, no TIME_ZONE
for the database: homelog's case) the C loader gives the same datetimes, tzinfo included. Elsewhere
nothing changes.

With CONN_HEALTH_CHECKS, Django checks a kept connection before its first use in each request with a
``SELECT 1``: a round trip and a statement for the server on every request. A connection the server ended
(a restart, ``pg_terminate_backend``, an idle timeout) has already been told so: the server sends its
goodbye and closes the socket, which an idle connection sees as something to read. So `is_usable` looks at
the socket instead, without waiting, and an idle connection with anything to read is dropped.
A host that vanished without closing the socket is not seen by either check before the query fails; that
request answers 503 and Django drops the connection after it (`close_if_unusable_or_obsolete`).
"""

import datetime as dt

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq

from homelog.sockets import has_input

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
# psycopg's default loader, its C implementation when psycopg[binary] or [c] is installed.
LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)


USABLE_STATES = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)


def is_alive(connection):
    """Whether an idle psycopg connection is still open, told without a round trip to the server."""
    if connection.closed or connection.broken:
        return False
    try:
        # homelog listens to no channel: what an idle connection is sent is the server's goodbye (a FATAL
        # message before it closes), or now and then a notice or a changed setting; the first is the point,
        # and for the others a new connection costs little. The goodbye may be read before the end of the
        # stream, so having anything to read is enough.
        if has_input(connection.pgconn.socket):
            return False
    except (psycopg.Error, OSError, ValueError):
        return False
    # As for a SELECT 1: a connection in a failed transaction would refuse it.
    return (
        connection.pgconn.status == pq.ConnStatus.OK and connection.info.transaction_status in USABLE_STATES
    )


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        return self.connection is not None and is_alive(self.connection)

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        # On the cursor, not the connection: Django reads the loader's `timezone` attribute from the
        # connection's loader before each cursor, and the C class has none.
        if self.timezone is dt.UTC and self.connection.info.parameter_status("TimeZone") == "UTC":
            cursor.adapters.register_loader(TIMESTAMPTZ_OID, LOADER)
        return cursor
