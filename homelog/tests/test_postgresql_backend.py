"""homelog's PostgreSQL backend: Django's, with psycopg's C timestamp loader where that changes nothing."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection, connections
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
