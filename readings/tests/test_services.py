import datetime as dt
import uuid

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from homelog.api.moments import EXAMPLE
from readings.changes import readings_changed
from readings.models import Reading
from readings.services import InvalidItem, batch, ingest_readings
from readings.tests.factories import ReadingFactory
from readings.tests.helpers import stored
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
ID_A = uuid.UUID("0193a0e2-0000-7000-8000-00000000000a")
ID_B = uuid.UUID("0193a0e2-0000-7000-8000-00000000000b")


def at(hours):
    return (T0 + dt.timedelta(hours=hours)).isoformat()


@pytest.fixture(params=["default", "bulk_create"])
def store_path(request, monkeypatch):
    """Run a test through the database's own path (COPY on PostgreSQL) and through bulk_create."""
    if request.param == "bulk_create":
        if connection.vendor != "postgresql":
            pytest.skip("bulk_create is already the default path on this database")
        # Without a COPY payload, the batch is stored with bulk_create.
        monkeypatch.setattr(batch, "copy_payload", lambda *args: None)
    return request.param


@pytest.fixture
def source(household, store_path):
    return DataSourceFactory(
        household=household,
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )


def test_the_same_batch_sent_three_times_is_stored_once(source, owner):
    batch = [
        {"timestamp": at(0), "values": {"energy": 1.5}},
        {"timestamp": at(1), "values": {"energy": 2, "power": 300.25}},
        {"id": str(ID_A), "timestamp": at(2), "values": {"power": 0.1}},
    ]
    first = ingest_readings(source, batch, created_by=owner)
    second = ingest_readings(source, batch, created_by=owner)
    third = ingest_readings(source, batch)
    assert (first.created, first.existing, first.errors) == (3, 0, {})
    assert (second.created, second.existing, second.errors) == (0, 3, {})
    assert (third.created, third.existing, third.errors) == (0, 3, {})
    assert stored(source) == [
        ("2025-03-01T12:00:00+00:00", {"energy": 1.5}),
        ("2025-03-01T13:00:00+00:00", {"energy": 2, "power": 300.25}),
        ("2025-03-01T14:00:00+00:00", {"power": 0.1}),
    ]
    source.refresh_from_db(fields=["reading_count"])
    assert source.reading_count == 3
    reading = Reading.objects.get(pk=ID_A)
    assert (reading.data_source_id, reading.created_by_id) == (source.pk, owner.pk)
    generated = Reading.objects.exclude(pk=ID_A).values_list("id", flat=True)
    assert {reading_id.version for reading_id in generated} == {7}


def test_an_atomic_batch_with_one_bad_item_stores_nothing(source):
    result = ingest_readings(
        source,
        [
            {"timestamp": at(0), "values": {"energy": 1}},
            {"timestamp": at(1), "values": {"energy": "many"}},
            {"timestamp": at(2), "values": {"energy": 3}},
        ],
    )
    assert (result.created, result.existing, result.stored) == (0, 0, False)
    assert result.errors == {1: {"values": ["Value of 'energy' must be a number, not 'many'."]}}
    assert stored(source) == []


def test_a_partial_batch_stores_exactly_the_good_items(source):
    result = ingest_readings(
        source,
        [
            {"timestamp": at(0), "values": {"energy": 1}},
            {"timestamp": "soon", "values": {"energy": 2}},
            {"timestamp": at(2), "values": {"gas": 3}},
            {"timestamp": at(3), "values": {"energy": 4}},
        ],
        partial=True,
    )
    assert (result.created, result.existing, result.stored) == (2, 0, True)
    assert sorted(result.errors) == [1, 2]
    assert stored(source) == [
        ("2025-03-01T12:00:00+00:00", {"energy": 1}),
        ("2025-03-01T15:00:00+00:00", {"energy": 4}),
    ]
    source.refresh_from_db(fields=["reading_count"])
    assert source.reading_count == 2


def test_conflicts_with_stored_readings_are_reported_by_index(source):
    ReadingFactory(data_source=source, timestamp=T0, values={"energy": 1.0})
    ReadingFactory(data_source=source, timestamp=T0 + dt.timedelta(hours=1), values={"energy": 5.0})
    batch = [
        {"timestamp": at(0), "values": {"energy": 2.0}},
        {"timestamp": at(1), "values": {"energy": 5}},
        {"timestamp": at(2), "values": {"energy": 6.0}},
    ]
    conflict = {
        "timestamp": [
            "A reading with other values is already stored at 2025-03-01T12:00:00+00:00; "
            "change it on its own rather than in a batch."
        ]
    }

    atomic = ingest_readings(source, batch)
    assert (atomic.created, atomic.existing, atomic.stored, atomic.errors) == (0, 0, False, {0: conflict})
    assert len(stored(source)) == 2

    partial = ingest_readings(source, batch, partial=True)
    assert (partial.created, partial.existing, partial.stored, partial.errors) == (1, 1, True, {0: conflict})
    assert stored(source) == [
        ("2025-03-01T12:00:00+00:00", {"energy": 1.0}),
        ("2025-03-01T13:00:00+00:00", {"energy": 5.0}),
        ("2025-03-01T14:00:00+00:00", {"energy": 6.0}),
    ]


def test_a_known_id_is_existing_when_equal_and_a_conflict_when_not(source):
    other_source = DataSourceFactory()
    ReadingFactory(id=ID_A, data_source=source, timestamp=T0, values={"energy": 1.0})
    ReadingFactory(id=ID_B, data_source=other_source, timestamp=T0, values={"energy": 1.0})
    result = ingest_readings(
        source,
        [
            {"id": str(ID_A), "timestamp": at(0), "values": {"energy": 1.0}},
            {"id": str(ID_B), "timestamp": at(1), "values": {"energy": 1.0}},
            {"timestamp": at(2), "values": {"energy": 2.0}},
        ],
        partial=True,
    )
    assert (result.created, result.existing) == (1, 1)
    assert result.errors == {1: {"id": [f"Id {ID_B} is already used by another reading."]}}
    moved = ingest_readings(source, [{"id": ID_A, "timestamp": at(3), "values": {"energy": 1.0}}])
    assert moved.errors == {0: {"id": [f"Id {ID_A} is already used by another reading."]}}
    assert Reading.objects.count() == 3


def test_repeats_within_one_batch(source):
    result = ingest_readings(
        source,
        [
            {"id": str(ID_A), "timestamp": at(0), "values": {"energy": 1}},
            {"timestamp": at(0), "values": {"energy": 1}},
            {"timestamp": at(0), "values": {"energy": 9}},
            {"id": str(ID_B), "timestamp": at(0), "values": {"energy": 1}},
            {"id": str(ID_A), "timestamp": at(1), "values": {"energy": 2}},
        ],
        partial=True,
    )
    assert (result.created, result.existing) == (1, 1)
    assert result.errors == {
        2: {"timestamp": ["Item 0 of this batch has this timestamp with other values."]},
        3: {"id": ["Item 0 of this batch is the same reading, other id."]},
        4: {"id": ["Item 0 of this batch already has this id."]},
    }
    assert list(Reading.objects.values_list("id", flat=True)) == [ID_A]


@pytest.mark.parametrize(
    ("item", "errors"),
    [
        (
            {"timestamp": at(0), "values": {"energy": float("nan")}},
            {"values": ["Value of 'energy' must be a finite number, not nan."]},
        ),
        (
            {"timestamp": at(0), "values": {"energy": float("inf"), "power": float("-inf")}},
            {
                "values": [
                    "Value of 'energy' must be a finite number, not inf.",
                    "Value of 'power' must be a finite number, not -inf.",
                ]
            },
        ),
        (
            {"timestamp": at(0), "values": {"energy": "12.5"}},
            {"values": ["Value of 'energy' must be a number, not '12.5'."]},
        ),
        (
            {"timestamp": at(0), "values": {"energy": True}},
            {"values": ["Value of 'energy' must be a number, not True."]},
        ),
        (
            {"timestamp": at(0), "values": {"gas": 1}},
            {"values": ["Unknown metric 'gas'; this source has: energy, power."]},
        ),
        ({"timestamp": at(0), "values": {}}, {"values": ["Values must contain at least one metric."]}),
        ({"timestamp": at(0)}, {"values": ["This field is required."]}),
        (
            {"timestamp": at(0), "values": [1, 2]},
            {"values": ["Values must be an object mapping metric names to numbers."]},
        ),
        (
            {"timestamp": "yesterday", "values": {"energy": 1}},
            {"timestamp": [f"'yesterday' is not an ISO 8601 date or date-time ({EXAMPLE})."]},
        ),
        (
            {"timestamp": "2025-02-30T10:00:00Z", "values": {"energy": 1}},
            {"timestamp": [f"'2025-02-30T10:00:00Z' is not an ISO 8601 date or date-time ({EXAMPLE})."]},
        ),
        (
            {"timestamp": 1740830400, "values": {"energy": 1}},
            {"timestamp": [f"Expected an ISO 8601 date-time ({EXAMPLE})."]},
        ),
        (
            {"timestamp": "0025-03-01T00:00:00+00:00", "values": {"energy": 1}},
            {
                "timestamp": [
                    "0025-03-01T00:00:00+00:00 is outside the years 1900 to 2199 that homelog keeps."
                ]
            },
        ),
        ({"values": {"energy": 1}}, {"timestamp": ["This field is required."]}),
        (
            {"id": "reading-1", "timestamp": at(0), "values": {"energy": 1}},
            {"id": ["Id must be a UUID, not 'reading-1'."]},
        ),
        (
            ["2025-03-01T12:00:00Z", 1],
            {
                "non_field_errors": [
                    "Each reading must be an object with 'timestamp' and 'values', "
                    "not ['2025-03-01T12:00:00Z', 1]."
                ]
            },
        ),
        (InvalidItem("Expected 2 fields, found 3."), {"non_field_errors": ["Expected 2 fields, found 3."]}),
    ],
)
def test_bad_input_is_reported_and_nothing_stored(source, item, errors):
    good = {"timestamp": at(5), "values": {"energy": 1}}
    result = ingest_readings(source, [good, item])
    assert result.errors == {1: errors}
    assert (result.created, result.stored) == (0, False)
    assert stored(source) == []


def test_naive_timestamps_are_in_the_household_time_zone_unless_told(source):
    ingest_readings(source, [{"timestamp": "2025-01-01T00:00:00", "values": {"energy": 1}}])
    ingest_readings(source, [{"timestamp": "2025-01-01T00:00:00", "values": {"energy": 2}}], tzinfo=dt.UTC)
    assert stored(source) == [
        ("2024-12-31T23:00:00+00:00", {"energy": 1}),
        ("2025-01-01T00:00:00+00:00", {"energy": 2}),
    ]


def test_timestamps_with_other_offsets_are_the_same_instant(source):
    ingest_readings(source, [{"timestamp": "2025-03-01T12:00:00Z", "values": {"energy": 1}}])
    again = ingest_readings(source, [{"timestamp": "2025-03-01T13:00:00+01:00", "values": {"energy": 1}}])
    assert (again.created, again.existing) == (0, 1)


def test_listeners_hear_of_stored_readings_once_and_only_after_commit(
    source, django_capture_on_commit_callbacks
):
    heard = []

    def listener(sender, source_ids, **kwargs):
        heard.append(source_ids)

    readings_changed.connect(listener)
    try:
        batch = [{"timestamp": at(hour), "values": {"energy": hour}} for hour in range(3)]
        with django_capture_on_commit_callbacks(execute=True):
            ingest_readings(source, batch)
        with django_capture_on_commit_callbacks(execute=True):
            ingest_readings(source, batch)
            ingest_readings(source, [*batch, {"timestamp": at(0), "values": {"energy": 7}}])
    finally:
        readings_changed.disconnect(listener)
    assert heard == [frozenset({source.pk})]


def test_bulk_writes_send_no_per_row_model_signals(source):
    saved = []

    def listener(sender, **kwargs):
        saved.append(kwargs["instance"])

    post_save.connect(listener, sender=Reading)
    try:
        ingest_readings(source, [{"timestamp": at(hour), "values": {"energy": hour}} for hour in range(3)])
    finally:
        post_save.disconnect(listener, sender=Reading)
    assert saved == []


def test_two_batches_in_one_outer_transaction(source):
    with transaction.atomic():
        first = ingest_readings(source, [{"timestamp": at(0), "values": {"energy": 1}}])
        second = ingest_readings(
            source,
            [{"timestamp": at(0), "values": {"energy": 1}}, {"timestamp": at(1), "values": {"energy": 2}}],
        )
    assert (first.created, second.created, second.existing) == (1, 1, 1)


def test_queries_do_not_grow_with_the_batch(source):
    def batch(start, size):
        return [{"timestamp": at(start + hour), "values": {"energy": hour}} for hour in range(size)]

    counts = []
    # 150: below the rows of one INSERT on SQLite, which caps the parameters of a statement.
    for start, size in [(0, 10), (1000, 150)]:
        with CaptureQueriesContext(connection) as fresh:
            ingest_readings(source, batch(start, size))
        with CaptureQueriesContext(connection) as again:
            ingest_readings(source, batch(start, size))
        counts.append((len(fresh), len(again)))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("partial", [True, False])
def test_a_batch_with_one_time_twice_fails_only_the_item_that_differs_from_the_stored_one(
    source, store_path, partial
):
    ingest_readings(source, [{"timestamp": at(0), "values": {"energy": 1}}])
    result = ingest_readings(
        source,
        [
            {"timestamp": at(0), "values": {"energy": 9}},
            {"timestamp": at(0), "values": {"energy": 1}},
            {"timestamp": at(1), "values": {"energy": 2}},
        ],
        partial=partial,
    )
    conflict = {
        "timestamp": [
            f"A reading with other values is already stored at {at(0)}; "
            "change it on its own rather than in a batch."
        ]
    }
    assert result.errors == {0: conflict}
    if partial:
        assert (result.created, result.existing, result.stored) == (1, 1, True)
    else:
        assert (result.created, result.existing, result.stored) == (0, 0, False)
    stored = sorted(
        (moment.isoformat(), values) for moment, values in Reading.objects.values_list("timestamp", "values")
    )
    assert stored == [(at(0), {"energy": 1}), *([(at(1), {"energy": 2})] if partial else [])]
