"""homelog's PostgreSQL backend with Django's own connection check (a SELECT 1 before a kept connection's
first query in a request) instead of homelog's look at the socket: for bench/http --without socket-check."""

from django.db.backends.postgresql import base

from homelog.postgresql import base as homelog_base


class DatabaseWrapper(homelog_base.DatabaseWrapper):
    is_usable = base.DatabaseWrapper.is_usable
