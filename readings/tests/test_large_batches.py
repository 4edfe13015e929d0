"""Batches large enough for the PostgreSQL paths that check the foreign keys once per batch, and the binary
COPY format every PostgreSQL batch is written in."""

import datetime as dt
import gc
import sys
import uuid
import zoneinfo

import pytest
from django.db import IntegrityError, connection, transaction

from readings.models import Reading
from readings.services import KEYS_CHECKED_ONCE_FROM, ingest_readings
from readings.services import copy as services
from readings.tests.helpers import stored
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC)
SIZE = KEYS_CHECKED_ONCE_FROM + 100
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's own COPY and trigger behaviour"
)


@pytest.fixture
def source(household):
    return DataSourceFactory(
        household=household,
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )


@pytest.fixture
def fresh_privilege_check(monkeypatch):
    """Forget what earlier tests learnt of this connection's role and the table's triggers."""
    import weakref

    monkeypatch.setattr(services, "_checks_keys_once", weakref.WeakKeyDictionary())


def minutes(start, count):
    return [
        {"timestamp": (T0 + dt.timedelta(minutes=minute)).isoformat(), "values": {"energy": minute / 4}}
        for minute in range(start, start + count)
    ]


def replication_role():
    if connection.vendor != "postgresql":
        return "origin"
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def test_a_large_batch_is_stored_once_and_a_half_overlapping_one_adds_only_its_new_half(source, owner):
    first = ingest_readings(source, minutes(0, SIZE), created_by=owner)
    again = ingest_readings(source, minutes(0, SIZE))
    overlapping = ingest_readings(source, minutes(SIZE // 2, SIZE), partial=True)

    assert (first.created, first.existing, first.errors) == (SIZE, 0, {})
    assert (again.created, again.existing, again.errors) == (0, SIZE, {})
    half = SIZE // 2
    assert (overlapping.created, overlapping.existing, overlapping.errors) == (half, SIZE - half, {})
    rows = stored(source)
    assert len(rows) == SIZE + SIZE // 2
    assert rows[0] == ("2025-03-01T00:00:00+00:00", {"energy": 0.0})
    assert rows[-1] == ("2025-03-01T14:59:00+00:00", {"energy": 224.75})
    source.refresh_from_db(fields=["reading_count"])
    assert source.reading_count == SIZE + SIZE // 2
    creators = Reading.objects.of_source(source).values_list("created_by_id", flat=True)
    assert sorted(set(creators), key=str) == sorted({owner.pk, None}, key=str)
    assert replication_role() == "origin"


def test_a_large_batch_that_conflicts_with_stored_readings_stores_nothing_in_atomic_mode(source):
    ingest_readings(source, minutes(0, 10))
    batch = minutes(0, SIZE)
    batch[3]["values"] = {"energy": 99.0}

    result = ingest_readings(source, batch)

    assert (result.created, result.stored) == (0, False)
    assert list(result.errors) == [3]
    assert len(stored(source)) == 10
    assert replication_role() == "origin"


def test_times_and_ids_survive_the_copy_format_exactly(source):
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    client_id = uuid.UUID("0193a0e2-0000-7000-8000-0000000000c1")
    batch = [
        {"id": str(client_id), "timestamp": "1999-12-31T20:00:00.5-02:00", "values": {"power": -0.5}},
        {"timestamp": dt.datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=berlin), "values": {"energy": 1}},
        {"timestamp": "2025-03-30T03:00:00.000001+02:00", "values": {"energy": 12345678.125, "power": 0}},
        *minutes(0, SIZE),
    ]

    result = ingest_readings(source, batch)

    assert (result.created, result.errors) == (SIZE + 3, {})
    rows = stored(source)
    assert rows[:4] == [
        ("1999-12-31T22:00:00.500000+00:00", {"power": -0.5}),
        ("2025-03-01T00:00:00+00:00", {"energy": 0.0}),
        ("2025-03-01T00:01:00+00:00", {"energy": 0.25}),
        ("2025-03-01T00:02:00+00:00", {"energy": 0.5}),
    ]
    assert ("2025-03-30T01:00:00.000001+00:00", {"energy": 12345678.125, "power": 0}) in rows
    assert ("2025-10-26T01:30:00+00:00", {"energy": 1}) in rows
    assert Reading.objects.get(pk=client_id).timestamp == dt.datetime(1999, 12, 31, 22, 0, 0, 500000, dt.UTC)


@needs_postgresql
def test_the_keys_are_checked_once_when_the_role_may_skip_the_row_checks(source, fresh_privilege_check):
    ingest_readings(source, minutes(0, SIZE))

    assert list(services._checks_keys_once.values()) == [True]
    assert len(stored(source)) == SIZE


@needs_postgresql
def test_a_source_that_no_longer_exists_is_refused_as_the_foreign_key_would(source, fresh_privilege_check):
    with (
        pytest.raises(IntegrityError, match="no longer exists"),
        connection.cursor() as cursor,
        services._keys_checked_once(cursor, source.pk + 1000, None, SIZE),
    ):
        pass
    assert replication_role() == "origin"


@needs_postgresql
def test_rows_are_checked_one_by_one_while_the_table_has_a_trigger_of_its_own(source, fresh_privilege_check):
    # A trigger that session_replication_role = replica would silently skip: it must still see every row.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE seen (n int);"
            "CREATE FUNCTION pg_temp.count_reading() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN INSERT INTO seen VALUES (1); RETURN NEW; END$$;"
            "CREATE TRIGGER count_reading AFTER INSERT ON readings_reading"
            " FOR EACH ROW EXECUTE FUNCTION pg_temp.count_reading()"
        )
        ingest_readings(source, minutes(0, SIZE))
        cursor.execute("SELECT count(*) FROM seen")
        assert cursor.fetchone()[0] == SIZE
    assert list(services._checks_keys_once.values()) == [False]


@needs_postgresql
def test_a_role_that_may_not_skip_the_row_checks_stores_the_batch_all_the_same(source, fresh_privilege_check):
    with connection.cursor() as cursor:
        # Roles belong to the whole server, but creating one is undone with the test's transaction.
        cursor.execute(
            "CREATE ROLE homelog_plain_writer NOLOGIN;"
            "GRANT ALL ON ALL TABLES IN SCHEMA public TO homelog_plain_writer;"
            "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO homelog_plain_writer;"
            "SET LOCAL ROLE homelog_plain_writer"
        )
        with transaction.atomic():
            result = ingest_readings(source, minutes(0, SIZE))
        cursor.execute("RESET ROLE")
    assert (result.created, result.errors) == (SIZE, {})
    assert list(services._checks_keys_once.values()) == [False]
    assert len(stored(source)) == SIZE


def test_an_import_leaves_the_interpreter_as_it_found_it(source, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "readings.csv"
    path.write_text("timestamp,energy\n" + "".join(f"2025-03-01T00:{m:02}:00Z,{m}\n" for m in range(60)))
    interval = sys.getswitchinterval()

    call_command("import_readings", str(path), source=source.pk, no_progress=True, batch_size=7, stdout=None)
    path.write_text("when,energy\n")
    with pytest.raises(CommandError):
        call_command("import_readings", str(path), source=source.pk, no_progress=True)

    assert (gc.isenabled(), sys.getswitchinterval()) == (True, interval)
    assert len(stored(source)) == 60
