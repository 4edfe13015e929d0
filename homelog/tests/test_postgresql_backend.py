"""homelog's PostgreSQL backend: Django's, with psycopg's C timestamp loader where that changes nothing."""

import datetime as dt
import time
import zoneinfo

import pytest
from django.db import DEFAULT_DB_ALIAS, DataError, connection, connections
from psycopg import pq

from readings.models import Reading
from readings.tests.factories import ReadingFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL backend"),
]


def timestamptz_loader():
    from homelog.postgresql.base import TIMESTAMPTZ_OID

    with connection.cursor() as cursor:
        return cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)


def test_the_engine_is_homelogs():
    assert connection.settings_dict["ENGINE"] == "homelog.postgresql"


def test_timestamps_are_read_by_psycopgs_own_loader():
    from homelog.postgresql.base import LOADER

    assert timestamptz_loader() is LOADER
    if pq.__impl__ in ("c", "binary"):
        assert LOADER.__module__.startswith(("psycopg_c", "psycopg_binary"))


def test_timestamps_read_back_exactly_and_in_utc():
    moment = dt.datetime(2025, 3, 30, 0, 59, 59, 123456, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    reading = ReadingFactory(timestamp=moment)
    row = Reading.objects.values("timestamp", "created_at").get(pk=reading.pk)
    assert row["timestamp"] == moment
    assert row["timestamp"].tzinfo is dt.UTC
    assert row["timestamp"].isoformat() == "2025-03-29T23:59:59.123456+00:00"
    assert row["created_at"].tzinfo is dt.UTC
    assert Reading.objects.get(pk=reading.pk).timestamp.tzinfo is dt.UTC


def test_a_connection_in_another_time_zone_keeps_djangos_loader(monkeypatch):
    # Django gives each value its connection's zone; psycopg's loader the session's. Where Django's zone is
    # not UTC, Django's loader stays.
    connections["default"].ensure_connection()
    monkeypatch.setitem(connections["default"].__dict__, "timezone", zoneinfo.ZoneInfo("Europe/Berlin"))
    from homelog.postgresql.base import LOADER

    loader = timestamptz_loader()
    assert loader is not LOADER
    assert loader.timezone == zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def kept_connection():
    """A second connection to the test database, as a worker thread keeps between requests."""
    kept = connections.create_connection("default")
    kept.ensure_connection()
    yield kept
    kept.close()


def last_statement_of(pid):
    """What the server process `pid` was last sent, or None once it has gone."""
    with connection.cursor() as cursor:
        # Within a transaction the statistics are a snapshot unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_kept_connection_is_checked_without_a_statement(kept_connection):
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() /* before the check */")
        (pid,) = cursor.fetchone()
    assert kept_connection.is_usable() is True
    # What the server last received is still the statement before the check: no SELECT 1 went out.
    assert last_statement_of(pid) == "SELECT pg_backend_pid() /* before the check */"


def test_a_connection_the_server_ended_is_dropped_and_the_next_request_reconnects(kept_connection):
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # pg_terminate_backend() only signals the server process: wait until it has gone, then check once.
    for _ in range(200):
        if last_statement_of(pid) is None:
            break
        time.sleep(0.01)
    assert kept_connection.is_usable() is False

    # What Django does before the first query of a request: drop the connection if the check fails.
    kept_connection.health_check_done = False
    kept_connection.close_if_health_check_failed()
    assert kept_connection.connection is None
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_in_a_failed_transaction_is_not_usable(kept_connection):
    kept_connection.set_autocommit(False)
    with pytest.raises(DataError), kept_connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert kept_connection.is_usable() is False
    kept_connection.rollback()
    assert kept_connection.is_usable() is True
    kept_connection.set_autocommit(True)


def test_a_statement_run_again_and_again_is_prepared_once():
    source_pk = ReadingFactory().data_source_id
    for _ in range(6):
        list(Reading.objects.filter(data_source_id=source_pk).values("timestamp"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert [s for s in prepared if 'FROM "readings_reading"' in s] == [
        'SELECT "readings_reading"."timestamp" AS "timestamp" FROM "readings_reading" '
        'WHERE "readings_reading"."data_source_id" = $1 ORDER BY 1 DESC'
    ]


def test_a_readings_page_checks_its_source_once_not_for_each_reading():
    """The access check of the readings list runs before the scan (a one-time filter), not joined to every
    row of it: that was half of PostgreSQL's time for a page."""
    from homelog.statements import Param
    from readings.api.views import READINGS_LIST

    reading = ReadingFactory()
    sql, params, _ = READINGS_LIST._compiled(DEFAULT_DB_ALIAS, ((), ("-timestamp",), 0, 101))
    # Only planned, not run: which user asks changes nothing in the plan.
    values = {"user": 1, "source": reading.data_source_id}
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", [values[p.name] if isinstance(p, Param) else p for p in params])
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "One-Time Filter" in plan
    assert "Join" not in plan and "Nested Loop" not in plan.split("One-Time Filter")[1]
