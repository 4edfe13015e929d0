"""The hourly rollups behind usage: exact rows, every writer keeping them equal to a rebuild from scratch, and
usage from them equal to usage from the readings."""

import dataclasses
import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import HouseholdFactory
from readings.models import HourlyRollup, Reading
from readings.services import delete_reading, delete_readings, ingest_readings, move_readings, update_reading
from readings.tests.factories import ReadingFactory
from readings.tests.usage_helpers import add_readings, at, consumption, hourly
from readings.usage import household_summary, rollup, source_usage
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

FIELDS = (
    "data_source_id",
    "metric",
    "hour",
    "first_at",
    "first_value",
    "last_at",
    "last_value",
    "increase",
    "total",
    "count",
    "minimum",
    "maximum",
)


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def rollups():
    return sorted(HourlyRollup.objects.values_list(*FIELDS))


def assert_rollups_fresh():
    """The rollups that the writers kept are those computed from scratch from every reading; returns them."""
    kept = rollups()
    rollup.rebuild()
    assert kept == rollups()
    return kept


def hours_of(source, metric="energy"):
    return [
        hour.isoformat()
        for hour in HourlyRollup.objects.filter(data_source=source, metric=metric)
        .order_by("hour")
        .values_list("hour", flat=True)
    ]


@pytest.fixture
def meter(household, owner):
    return DataSourceFactory(
        household=household,
        created_by=owner,
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )


@pytest.fixture(autouse=True)
def no_usage_cache(settings):
    # Every usage call computes: the same call from the rollups and from the readings must both run.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


# --- What a row holds ---------------------------------------------------------------------------------------


def test_a_row_sums_up_one_metric_within_one_utc_hour(meter):
    for minute, values in [
        (0, {"energy": 5.0, "power": 100}),
        (20, {"energy": 7.5}),
        (40, {"energy": 3.0, "power": 300}),  # the meter was replaced: counting starts again from 3
        (50, {"energy": 4.0}),
    ]:
        ReadingFactory(data_source=meter, timestamp=utc(2025, 1, 6, 10, minute), values=values)
    ReadingFactory(data_source=meter, timestamp=utc(2025, 1, 6, 11, 10), values={"energy": 6.0})
    pk = meter.pk
    ten, eleven = utc(2025, 1, 6, 10), utc(2025, 1, 6, 11)
    assert assert_rollups_fresh() == [
        # source, metric, hour, first, last, increase, sum, count, min, max
        (pk, "energy", ten, ten, 5.0, utc(2025, 1, 6, 10, 50), 4.0, 3.5, 19.5, 4, 3.0, 7.5),
        (
            pk,
            "energy",
            eleven,
            utc(2025, 1, 6, 11, 10),
            6.0,
            utc(2025, 1, 6, 11, 10),
            6.0,
            0.0,
            6.0,
            1,
            6.0,
            6.0,
        ),
        (pk, "power", ten, ten, 100.0, utc(2025, 1, 6, 10, 40), 300.0, 200.0, 400.0, 2, 100.0, 300.0),
    ]


# --- Usage from rollups is usage from readings ------------------------------------------------------------


def _usage_queries(compute):
    with CaptureQueriesContext(connection) as captured:
        result = compute()
    tables = {
        table
        for query in captured
        for table in ("readings_reading", "readings_hourlyrollup")
        if table in query["sql"]
    }
    return result, tables


SCENARIOS = {
    "hourly readings with a meter replaced": [
        *hourly(at("2025-03-29 00:00"), 40, per_hour=1.5, first_value=100.0),
        (at("2025-03-30 17:30"), 2.0),
        *hourly(at("2025-03-30 18:00"), 30, per_hour=0.25, first_value=2.5),
    ],
    "manual readings days apart": [
        (at("2025-03-28 07:13"), 1000.0),
        (at("2025-03-31 19:02"), 1047.25),
        (at("2025-04-02 06:59"), 1063.0),
    ],
    "minutes across the clock change": [
        (utc(2025, 3, 29, 23) + dt.timedelta(minutes=7 * n), 10 + n * 0.1 + (n % 5) * 0.01)
        for n in range(900)
    ],
}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(
    "start, end, interval",
    [
        (dt.date(2025, 3, 27), dt.date(2025, 4, 4), "day"),
        (at("2025-03-30 00:00"), at("2025-03-31 06:00"), "hour"),
        (dt.date(2025, 3, 1), dt.date(2025, 5, 1), "month"),
        (dt.date(2025, 3, 24), dt.date(2025, 4, 7), "week"),
    ],
)
def test_usage_from_the_rollups_equals_usage_from_the_readings(
    monkeypatch, household, scenario, start, end, interval
):
    meter = DataSourceFactory(household=household, priced=True)
    add_readings(meter, SCENARIOS[scenario])
    from_rollups, tables = _usage_queries(lambda: source_usage(meter, "energy", start, end, interval))
    assert tables == {"readings_hourlyrollup"}
    assert any(bucket.consumption for bucket in from_rollups.buckets)
    monkeypatch.setattr(rollup, "covers", lambda edges: False)
    from_readings, tables = _usage_queries(lambda: source_usage(meter, "energy", start, end, interval))
    assert tables == {"readings_reading"}
    assert dataclasses.asdict(from_rollups) == dataclasses.asdict(from_readings)


def test_levels_from_the_rollups_equal_levels_from_the_readings(monkeypatch, household):
    sensor = DataSourceFactory(household=household, instantaneous=True)
    add_readings(
        sensor,
        [(utc(2025, 3, 29, 23) + dt.timedelta(minutes=13 * n), 18 + (n % 9) * 0.5) for n in range(300)],
        metric="temperature",
    )
    days = source_usage(sensor, "temperature", dt.date(2025, 3, 29), dt.date(2025, 4, 3), "day")
    assert [(b.count, b.minimum, b.maximum) for b in days.buckets] == [
        (0, None, None),
        (107, 18.0, 22.0),  # 23 hours: the clocks went forward
        (110, 18.0, 22.0),
        (83, 18.0, 22.0),
        (0, None, None),
    ]
    monkeypatch.setattr(rollup, "covers", lambda edges: False)
    assert dataclasses.asdict(days) == dataclasses.asdict(
        source_usage(sensor, "temperature", dt.date(2025, 3, 29), dt.date(2025, 4, 3), "day")
    )


def test_the_household_summary_from_the_rollups_equals_it_from_the_readings(monkeypatch, household):
    for n in range(3):
        meter = DataSourceFactory(household=household, priced=True)
        add_readings(meter, hourly(at("2024-02-01 00:00"), 24 * 430, per_hour=0.1 + n, first_value=n * 7.0))
    summary, tables = _usage_queries(
        lambda: household_summary(household, dt.date(2025, 3, 1), dt.date(2025, 4, 1), "month")
    )
    assert tables == {"readings_hourlyrollup"}
    assert summary.current.totals[0].consumption == 2451.9  # (0.1 + 1.1 + 2.1) kWh an hour, 743 hours
    monkeypatch.setattr(rollup, "covers", lambda edges: False)
    assert dataclasses.asdict(summary) == dataclasses.asdict(
        household_summary(household, dt.date(2025, 3, 1), dt.date(2025, 4, 1), "month")
    )


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu"])
def test_a_time_zone_off_the_whole_hour_reads_the_readings(zone):
    meter = DataSourceFactory(household=HouseholdFactory(timezone=zone))
    add_readings(meter, hourly(utc(2025, 1, 1), 24 * 4, per_hour=1.0), tz=zone)
    usage, tables = _usage_queries(
        lambda: source_usage(meter, "energy", dt.date(2025, 1, 2), dt.date(2025, 1, 4), "day")
    )
    assert tables == {"readings_reading"}
    assert consumption(usage) == [24.0, 24.0]
    assert (
        usage.buckets[0].start.isoformat()
        == f"2025-01-02T00:00:00{'+05:30' if 'Kolkata' in zone else '+05:45'}"
    )


def test_a_range_that_starts_within_an_hour_reads_the_readings(meter):
    add_readings(meter, hourly(utc(2025, 1, 1), 6, per_hour=2.0))
    usage, tables = _usage_queries(
        lambda: source_usage(meter, "energy", utc(2025, 1, 1, 0, 30), utc(2025, 1, 1, 2, 30), "hour")
    )
    assert tables == {"readings_reading"}
    assert consumption(usage) == [1.0, 2.0, 1.0]


# --- Every writer keeps them right ------------------------------------------------------------------------


def test_a_batch_refreshes_the_hours_it_touches(meter):
    ingest_readings(
        meter,
        [
            {
                "timestamp": utc(2025, 1, 1) + dt.timedelta(minutes=15 * n),
                "values": {"energy": n, "power": 10 * n},
            }
            for n in range(8)
        ],
    )
    assert len(assert_rollups_fresh()) == 4
    # Again with one more and one that was already there, in an hour that has readings: that hour is
    # computed again from all of them.
    result = ingest_readings(
        meter,
        [
            {"timestamp": utc(2025, 1, 1, 1, 30), "values": {"energy": 6, "power": 60}},
            {"timestamp": utc(2025, 1, 1, 1, 50), "values": {"energy": 6.5}},
        ],
    )
    assert (result.created, result.existing) == (1, 1)
    kept = assert_rollups_fresh()
    assert [(row[2], row[7], row[9]) for row in kept if row[1] == "energy"] == [
        (utc(2025, 1, 1, 0), 3.0, 4),
        (utc(2025, 1, 1, 1), 3.0, 5),  # 4, 5, 6, 7, then 6.5: the drop adds nothing
    ]
    # Readings far apart refresh their own hours only, in as many statements as two readings do.
    ingest_readings(
        meter,
        [
            {"timestamp": utc(2024, 6, 1, 12), "values": {"energy": 0.5}},
            {"timestamp": utc(2026, 1, 1, 12), "values": {"energy": 99}},
        ],
    )
    assert hours_of(meter) == [
        "2024-06-01T12:00:00+00:00",
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T01:00:00+00:00",
        "2026-01-01T12:00:00+00:00",
    ]
    assert_rollups_fresh()


def test_batches_that_continue_an_hour_or_fill_gaps_keep_them_exact(meter):
    def batch(minutes, power_every=1):
        return [
            {
                "timestamp": utc(2025, 1, 1) + dt.timedelta(minutes=minute),
                "values": {"energy": 100 + minute * 0.37}
                | ({"power": minute % 7} if n % power_every == 0 else {}),
            }
            for n, minute in enumerate(minutes)
        ]

    ingest_readings(meter, batch(range(0, 41, 10)))
    # Continues hour 0 and goes on, out of order, with some readings without power.
    ingest_readings(meter, batch([95, 45, 61, 50, 130, 75], power_every=2))
    # Fills gaps between readings already stored.
    ingest_readings(meter, batch([5, 15, 65]))
    kept = assert_rollups_fresh()
    assert [(row[1], row[2].hour, row[9]) for row in kept] == [
        ("energy", 0, 9),
        ("energy", 1, 4),
        ("energy", 2, 1),
        ("power", 0, 7),
        ("power", 1, 3),
        ("power", 2, 1),
    ]
    assert [row[3:5] for row in kept][:2] == [
        (utc(2025, 1, 1), 100.0),
        (utc(2025, 1, 1, 1, 1), 100 + 61 * 0.37),
    ]


def test_a_partial_batch_with_a_conflict_leaves_the_stored_reading_counted(meter):
    ingest_readings(meter, [{"timestamp": utc(2025, 1, 1, 8), "values": {"energy": 1}}])
    result = ingest_readings(
        meter,
        [
            {"timestamp": utc(2025, 1, 1, 8), "values": {"energy": 2}},
            {"timestamp": utc(2025, 1, 1, 8, 30), "values": {"energy": 3, "power": 5}},
        ],
        partial=True,
    )
    assert (result.created, result.failed) == (1, 1)
    assert [row[3:8] for row in assert_rollups_fresh()] == [
        (utc(2025, 1, 1, 8), 1.0, utc(2025, 1, 1, 8, 30), 3.0, 2.0),
        (utc(2025, 1, 1, 8, 30), 5.0, utc(2025, 1, 1, 8, 30), 5.0, 0.0),
    ]


def test_an_atomic_batch_that_is_refused_changes_nothing(meter):
    ingest_readings(meter, [{"timestamp": utc(2025, 1, 1, 8), "values": {"energy": 1}}])
    before = rollups()
    result = ingest_readings(
        meter,
        [
            {"timestamp": utc(2025, 1, 1, 8), "values": {"energy": 2}},
            {"timestamp": utc(2025, 1, 1, 9), "values": {"energy": 3}},
        ],
    )
    assert not result.stored
    assert rollups() == before == assert_rollups_fresh()


def test_the_api_keeps_them_right_through_create_move_and_delete(api, owner, meter):
    url = f"/api/sources/{meter.pk}/readings"
    for when, value in [
        ("2025-01-01T10:00:00Z", 1),
        ("2025-01-01T10:30:00Z", 2),
        ("2025-01-01T11:30:00Z", 4),
    ]:
        assert api(owner).post(url, {"timestamp": when, "values": {"energy": value}}).status_code == 201
    assert hours_of(meter) == ["2025-01-01T10:00:00+00:00", "2025-01-01T11:00:00+00:00"]
    moved = Reading.objects.get(timestamp=utc(2025, 1, 1, 10, 30))
    response = api(owner).patch(f"{url}/{moved.pk}", {"timestamp": "2025-01-01T13:05:00Z"})
    assert response.status_code == 200
    assert hours_of(meter) == [
        "2025-01-01T10:00:00+00:00",
        "2025-01-01T11:00:00+00:00",
        "2025-01-01T13:00:00+00:00",
    ]
    assert_rollups_fresh()
    response = api(owner).put(
        f"{url}/{moved.pk}", {"timestamp": "2025-01-01T11:45:00Z", "values": {"power": 9}}
    )
    assert response.status_code == 200
    assert hours_of(meter) == ["2025-01-01T10:00:00+00:00", "2025-01-01T11:00:00+00:00"]
    assert hours_of(meter, "power") == ["2025-01-01T11:00:00+00:00"]
    assert_rollups_fresh()
    assert api(owner).delete(f"{url}/{moved.pk}").status_code == 204
    assert hours_of(meter, "power") == []
    assert len(assert_rollups_fresh()) == 2


@time_machine.travel(utc(2025, 3, 10, 12), tick=False)
def test_the_pages_keep_them_right_through_add_change_and_delete(client, owner, meter):
    client.force_login(owner)
    add = reverse("readings:reading-create", args=[meter.pk])
    for when, value in [("2025-03-10T07:30", "10"), ("2025-03-10T08:10", "12"), ("2025-03-10T09:15", "15")]:
        assert client.post(add, {"timestamp": when, "metric_energy": value}).status_code == 302
    middle = Reading.objects.get(timestamp=at("2025-03-10 08:10"))
    # Moved to the first hour, and lower than the reading before it there: a replaced meter.
    response = client.post(
        reverse("readings:reading-update", args=[middle.pk]),
        {"timestamp": "2025-03-10T07:50", "metric_energy": "3", "meter_replaced": "on"},
    )
    assert response.status_code == 302
    assert hours_of(meter) == ["2025-03-10T06:00:00+00:00", "2025-03-10T08:00:00+00:00"]
    assert [row[7] for row in assert_rollups_fresh()] == [0.0, 0.0]
    # 12 kWh from 07:50 to 09:15 (85 minutes): 10, 60 and 15 minutes of it in the three hours.
    hours = source_usage(meter, "energy", at("2025-03-10 07:00"), at("2025-03-10 11:00"), "hour")
    assert consumption(hours) == [1.411765, 8.470588, 2.117647, None]
    response = client.post(reverse("readings:reading-delete", args=[middle.pk]))
    assert response.status_code == 302
    assert [row[4:8] for row in assert_rollups_fresh()] == [
        (10.0, at("2025-03-10 07:30"), 10.0, 0.0),
        (15.0, at("2025-03-10 09:15"), 15.0, 0.0),
    ]


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_the_admin_keeps_them_right_through_change_and_deletes(admin_client, meter):
    other = DataSourceFactory()
    readings = [
        ReadingFactory(data_source=meter, timestamp=utc(2025, 1, 1, hour), values={"energy": hour})
        for hour in range(4)
    ]
    response = admin_client.post(
        reverse("admin:readings_reading_change", args=[readings[1].pk]),
        {
            "id": str(readings[1].pk),
            "data_source": other.pk,
            "timestamp_0": "2025-01-01",
            "timestamp_1": "07:30:00",
            "values": '{"energy": 5}',
        },
    )
    assert response.status_code == 302
    assert hours_of(meter) == [
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T02:00:00+00:00",
        "2025-01-01T03:00:00+00:00",
    ]
    assert hours_of(other) == ["2025-01-01T07:00:00+00:00"]
    assert_rollups_fresh()
    response = admin_client.post(
        reverse("admin:readings_reading_delete", args=[readings[0].pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    response = admin_client.post(
        reverse("admin:readings_reading_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(readings[1].pk), str(readings[3].pk)],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert hours_of(meter) == ["2025-01-01T02:00:00+00:00"]
    assert hours_of(other) == []
    assert_rollups_fresh()


def test_deletes_updates_and_moves_of_many_keep_them_right(meter, household):
    other = DataSourceFactory(household=household, metrics=meter.metrics)
    add_readings(meter, [(utc(2025, 1, 1) + dt.timedelta(minutes=10 * n), float(n)) for n in range(18)])
    delete_readings(
        Reading.objects.filter(timestamp__gte=utc(2025, 1, 1, 0, 30), timestamp__lt=utc(2025, 1, 1, 1, 20))
    )
    assert [(row[2], row[9]) for row in assert_rollups_fresh()] == [
        (utc(2025, 1, 1, 0), 3),
        (utc(2025, 1, 1, 1), 4),
        (utc(2025, 1, 1, 2), 6),
    ]
    for reading in Reading.objects.filter(timestamp__lt=utc(2025, 1, 1, 1)):
        update_reading(reading, values={"energy": 1.0, "power": 2.0})
    assert hours_of(meter, "power") == ["2025-01-01T00:00:00+00:00"]
    assert_rollups_fresh()
    # Moved: the rows leave their hours and their source, which the filter could no longer find afterwards.
    assert move_readings(Reading.objects.filter(timestamp__gte=utc(2025, 1, 1, 2)), other) == 6
    assert hours_of(meter) == ["2025-01-01T00:00:00+00:00", "2025-01-01T01:00:00+00:00"]
    assert hours_of(other) == ["2025-01-01T02:00:00+00:00"]
    meter.refresh_from_db()
    other.refresh_from_db()
    assert (meter.reading_count, other.reading_count) == (7, 6)
    assert_rollups_fresh()
    assert delete_readings(Reading.objects.filter(pk__in=[])) == 0
    Reading.objects.update(created_by=None)
    assert_rollups_fresh()
    # What would skip the counters and rollups is refused, naming what to call instead.
    with pytest.raises(TypeError, match=r"readings\.services\.delete_readings\(queryset\)"):
        Reading.objects.filter(data_source=other).delete()
    with pytest.raises(TypeError, match=r"move_readings\(queryset, source\)"):
        Reading.objects.update(data_source=other)
    with pytest.raises(TypeError, match=r"readings\.services\.delete_reading\(\)"):
        Reading.objects.first().delete()


def test_changing_a_sources_metrics_needs_no_rebuild(monkeypatch, meter):
    add_readings(meter, [(utc(2025, 1, 1) + dt.timedelta(minutes=20 * n), 2.0 * n) for n in range(9)])
    add_readings(
        meter,
        [(utc(2025, 1, 1) + dt.timedelta(minutes=20 * n + 10), 50.0 - n) for n in range(9)],
        metric="power",
    )
    kept = assert_rollups_fresh()
    # A level becomes a register, and the register is renamed: the readings keep their values.
    meter.metrics = {
        "power": {"unit": "W", "cumulative": True},
        "electricity": {"unit": "kWh", "cumulative": True},
    }
    meter.save(update_fields=["metrics"])
    assert rollups() == kept == assert_rollups_fresh()
    usage = source_usage(meter, "power", utc(2025, 1, 1), utc(2025, 1, 1, 3), "hour")
    assert consumption(usage) == [0.0, 0.0, 0.0]
    assert (
        consumption(source_usage(meter, "electricity", utc(2025, 1, 1), utc(2025, 1, 1, 3), "hour"))
        == [None] * 3
    )
    monkeypatch.setattr(rollup, "covers", lambda edges: False)
    assert dataclasses.asdict(usage) == dataclasses.asdict(
        source_usage(meter, "power", utc(2025, 1, 1), utc(2025, 1, 1, 3), "hour")
    )
    # Back as it was: the rollups of the old name are still right.
    meter.metrics = {
        "energy": {"unit": "kWh", "cumulative": True},
        "power": {"unit": "W", "cumulative": False},
    }
    meter.save(update_fields=["metrics"])
    assert consumption(source_usage(meter, "energy", utc(2025, 1, 1), utc(2025, 1, 1, 3), "hour")) == [
        6.0,
        6.0,
        4.0,
    ]
    # A reading deleted while its metric was not the source's still leaves its hour right.
    meter.metrics = {"power": {"unit": "W", "cumulative": False}}
    meter.save(update_fields=["metrics"])
    delete_reading(Reading.objects.get(timestamp=utc(2025, 1, 1, 2, 40)))
    assert_rollups_fresh()


def test_deleting_a_source_deletes_its_rollups_without_loading_them(meter):
    other = DataSourceFactory()
    add_readings(meter, hourly(utc(2025, 1, 1), 30, per_hour=1.0))
    add_readings(other, hourly(utc(2025, 1, 1), 3, per_hour=1.0))
    with CaptureQueriesContext(connection) as captured:
        meter.delete()
    rollup_queries = [query["sql"] for query in captured if "readings_hourlyrollup" in query["sql"]]
    assert len(rollup_queries) == 1
    assert rollup_queries[0].startswith("DELETE")
    assert {row[0] for row in assert_rollups_fresh()} == {other.pk}


def test_the_command_builds_what_a_raw_writer_left_out(meter):
    Reading.objects.bulk_create(
        Reading(data_source=meter, timestamp=utc(2025, 1, 1, hour), values={"energy": float(hour)})
        for hour in range(5)
    )
    other = DataSourceFactory()
    Reading.objects.bulk_create(
        [Reading(data_source=other, timestamp=utc(2025, 1, 1), values={"energy": 1.0})]
    )
    assert rollups() == []
    output = io.StringIO()
    call_command("rebuild_usage_rollups", "--source", str(meter.pk), stdout=output)
    assert output.getvalue().startswith("Rebuilt the usage rollups of 1 source: 5 hourly rows in ")
    assert hours_of(other) == []
    call_command("rebuild_usage_rollups", stdout=io.StringIO())
    assert len(assert_rollups_fresh()) == 6


def test_the_command_refuses_an_unknown_source():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"There is no data source with id 999999\."):
        call_command("rebuild_usage_rollups", "--source", "999999")


def test_the_demo_household_has_its_rollups(settings):
    call_command("seed_demo", days=3, stdout=io.StringIO())
    kept = assert_rollups_fresh()
    assert len(kept) > 100


def test_hours_are_utc_hours_whatever_the_reading_offset(meter):
    kolkata = zoneinfo.ZoneInfo("Asia/Kolkata")
    ReadingFactory(
        data_source=meter, timestamp=dt.datetime(2025, 1, 1, 5, 50, tzinfo=kolkata), values={"energy": 1}
    )
    assert hours_of(meter) == ["2025-01-01T00:00:00+00:00"]


def test_readings_added_one_by_one_keep_the_hour_exactly_as_a_rebuild(meter):
    # Values whose sums depend on the order of adding, a register that drops, a level, and readings that
    # come before others of their hour as well as after them.
    values = [0.1, 0.7, 0.2, 1e-3, 12.3, 12.35, 3.3, 3.4000001, 1e9, 1e9 + 0.1]
    minutes = [0, 7, 9, 15, 22, 30, 41, 44, 50, 59]
    for n, (minute, value) in enumerate(zip(minutes, values, strict=True)):
        fields = {"energy": value} if n % 3 else {"energy": value, "power": -value}
        ReadingFactory(data_source=meter, timestamp=utc(2025, 1, 1, 5, minute), values=fields)
    ReadingFactory(data_source=meter, timestamp=utc(2025, 1, 1, 5, 3), values={"energy": 0.3})
    ReadingFactory(data_source=meter, timestamp=utc(2025, 1, 1, 4, 59, 59), values={"power": 2.5})
    kept = assert_rollups_fresh()
    assert [(row[1], row[2], row[9]) for row in kept] == [
        ("energy", utc(2025, 1, 1, 5), 11),
        ("power", utc(2025, 1, 1, 4), 1),
        ("power", utc(2025, 1, 1, 5), 4),
    ]
