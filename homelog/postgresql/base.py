"""Django's PostgreSQL backend, reading timestamps with psycopg's C loader.

Django registers a loader of its own for `timestamptz`, a Python subclass of psycopg's, only to set the
tzinfo of each value to the connection's time zone; being Python, it costs several microseconds a value,
about a fifth of the time of a readings page. Django sets the session's TimeZone to its own zone, and
psycopg's loader already gives each value the session's zone, so where both are UTC (USE_TZ, no TIME_ZONE
for the database: homelog's case) the C loader gives the same datetimes, tzinfo included. Elsewhere
nothing changes.
"""

import datetime as dt

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
# psycopg's default loader, its C implementation when psycopg[binary] or [c] is installed.
LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        # On the cursor, not the connection: Django reads the loader's `timezone` attribute from the
        # connection's loader before each cursor, and the C class has none.
        if self.timezone is dt.UTC and self.connection.info.parameter_status("TimeZone") == "UTC":
            cursor.adapters.register_loader(TIMESTAMPTZ_OID, LOADER)
        return cursor
