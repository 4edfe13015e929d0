"""source_usage against hand-computed numbers, on whichever database the suite runs on."""

import datetime as dt

import pytest

from accounts.tests.factories import HouseholdFactory
from readings.tests.usage_helpers import add_readings, at, consumption, hourly, starts
from readings.usage import UsageError, source_usage
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meter(household):
    return DataSourceFactory(household=household, priced=True)


def test_regular_hourly_readings_per_day_and_hour_with_cost(meter):
    add_readings(meter, hourly(at("2025-01-01 00:00"), 48, per_hour=2.0))
    usage = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2025, 1, 3), "day")
    assert usage.kind == "cumulative" and usage.unit == "kWh"
    assert starts(usage) == ["2025-01-01T00:00:00+01:00", "2025-01-02T00:00:00+01:00"]
    assert consumption(usage) == [48.0, 48.0]
    assert [b.cost for b in usage.buckets] == [14.4, 14.4]
    assert [b.coverage for b in usage.buckets] == [1.0, 1.0]
    assert (usage.total.consumption, usage.total.cost, usage.total.coverage) == (96.0, 28.8, 1.0)

    hours = source_usage(meter, "energy", at("2025-01-01 22:00"), at("2025-01-02 01:00"), "hour")
    assert starts(hours) == [
        "2025-01-01T22:00:00+01:00",
        "2025-01-01T23:00:00+01:00",
        "2025-01-02T00:00:00+01:00",
    ]
    assert consumption(hours) == [2.0, 2.0, 2.0]


def test_manual_readings_days_apart_are_spread_over_the_days_between(meter):
    # 72 kWh in 72 hours: 1 kWh per hour, also on the two days without any reading.
    add_readings(meter, [("2025-01-10 12:00", 100.0), ("2025-01-13 12:00", 172.0)])
    usage = source_usage(meter, "energy", dt.date(2025, 1, 9), dt.date(2025, 1, 15), "day")
    assert consumption(usage) == [None, 12.0, 24.0, 24.0, 12.0, None]
    assert [b.coverage for b in usage.buckets] == [0.0, 0.5, 1.0, 1.0, 0.5, 0.0]
    assert [b.cost for b in usage.buckets] == [None, 3.6, 7.2, 7.2, 3.6, None]
    assert usage.total.consumption == 72.0
    assert usage.total.coverage == 0.5


def test_a_range_between_two_readings_gets_its_share(meter):
    add_readings(meter, [("2025-01-10 00:00", 0.0), ("2025-01-20 00:00", 100.0)])
    usage = source_usage(meter, "energy", at("2025-01-12 06:00"), at("2025-01-12 18:00"), "day")
    assert consumption(usage) == [5.0]
    assert usage.buckets[0].coverage == 1.0


def test_meter_replacement_never_counts_negative_consumption(meter):
    add_readings(
        meter,
        [
            ("2025-01-01 00:00", 1000.0),
            ("2025-01-02 00:00", 1010.0),
            ("2025-01-03 00:00", 0.0),  # new meter
            ("2025-01-04 00:00", 7.0),
            ("2025-01-05 00:00", 12.0),
        ],
    )
    usage = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2025, 1, 5), "day")
    assert consumption(usage) == [10.0, 0.0, 7.0, 5.0]


def test_a_drop_inside_one_bucket_restarts_from_the_new_value(meter):
    add_readings(
        meter,
        [
            ("2025-02-01 00:00", 50.0),
            ("2025-02-01 06:00", 56.0),
            ("2025-02-01 12:00", 1.0),  # replaced, new register already at 1
            ("2025-02-01 18:00", 4.0),
            ("2025-02-02 00:00", 10.0),
        ],
    )
    usage = source_usage(meter, "energy", dt.date(2025, 2, 1), dt.date(2025, 2, 2), "day")
    assert consumption(usage) == [15.0]


def test_a_reading_on_a_boundary_closes_the_earlier_bucket(meter):
    add_readings(meter, [("2025-01-01 00:00", 0.0), ("2025-01-02 00:00", 10.0), ("2025-01-02 12:00", 16.0)])
    usage = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2025, 1, 4), "day")
    assert consumption(usage) == [10.0, 6.0, None]
    assert [b.coverage for b in usage.buckets] == [1.0, 0.5, 0.0]


def test_berlin_spring_forward_day_has_23_hours(meter):
    add_readings(meter, hourly(at("2025-03-29 00:00"), 71, per_hour=1.0))
    days = source_usage(meter, "energy", dt.date(2025, 3, 29), dt.date(2025, 4, 1), "day")
    assert consumption(days) == [24.0, 23.0, 24.0]
    # In UTC: datetimes sharing a zoneinfo subtract by wall-clock time.
    assert days.buckets[1].end.astimezone(dt.UTC) - days.buckets[1].start == dt.timedelta(hours=23)

    hours = source_usage(meter, "energy", dt.date(2025, 3, 30), dt.date(2025, 3, 31), "hour")
    assert len(hours.buckets) == 23
    assert starts(hours)[1:3] == ["2025-03-30T01:00:00+01:00", "2025-03-30T03:00:00+02:00"]
    assert set(consumption(hours)) == {1.0}


def test_berlin_fall_back_day_has_25_hours(meter):
    add_readings(meter, hourly(at("2025-10-25 00:00"), 73, per_hour=1.0))
    days = source_usage(meter, "energy", dt.date(2025, 10, 25), dt.date(2025, 10, 28), "day")
    assert consumption(days) == [24.0, 25.0, 24.0]

    hours = source_usage(meter, "energy", dt.date(2025, 10, 26), dt.date(2025, 10, 27), "hour")
    assert len(hours.buckets) == 25
    assert starts(hours)[2:4] == ["2025-10-26T02:00:00+02:00", "2025-10-26T02:00:00+01:00"]
    assert set(consumption(hours)) == {1.0}


def test_manual_readings_across_the_clock_change_split_by_real_hours(meter):
    # 12:00 CET to 12:00 CEST two days later is 47 hours; the 23-hour day gets 23 of them.
    add_readings(meter, [("2025-03-29 12:00", 0.0), ("2025-03-31 12:00", 47.0)])
    usage = source_usage(meter, "energy", dt.date(2025, 3, 29), dt.date(2025, 4, 1), "day")
    assert consumption(usage) == [12.0, 23.0, 12.0]


def test_new_york_days_run_from_new_york_midnight():
    new_york = HouseholdFactory(timezone="America/New_York")
    meter = DataSourceFactory(household=new_york)
    add_readings(meter, [("2025-01-15T00:00:00+00:00", 0.0), ("2025-01-16T00:00:00+00:00", 24.0)])
    usage = source_usage(meter, "energy", dt.date(2025, 1, 14), dt.date(2025, 1, 16), "day")
    assert starts(usage) == ["2025-01-14T00:00:00-05:00", "2025-01-15T00:00:00-05:00"]
    assert consumption(usage) == [5.0, 19.0]
    assert usage.total.cost is None  # no price set


def test_new_york_daylight_saving_days(db):
    meter = DataSourceFactory(household=HouseholdFactory(timezone="America/New_York"))
    add_readings(meter, hourly(at("2025-03-08 00:00", "America/New_York"), 71, per_hour=0.5))
    add_readings(
        meter, hourly(at("2025-11-01 00:00", "America/New_York"), 73, per_hour=0.5, first_value=100.0)
    )
    spring = source_usage(meter, "energy", dt.date(2025, 3, 8), dt.date(2025, 3, 11), "day")
    assert consumption(spring) == [12.0, 11.5, 12.0]
    fall = source_usage(meter, "energy", dt.date(2025, 11, 1), dt.date(2025, 11, 4), "day")
    assert consumption(fall) == [12.0, 12.5, 12.0]


def test_weeks_start_on_monday_and_months_are_calendar_months(meter):
    add_readings(meter, hourly(at("2025-01-01 00:00"), (31 + 28 + 31) * 24 - 1, per_hour=1.0))
    weeks = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2025, 2, 1), "week")
    # 2025-01-01 is a Wednesday: the first and last weeks are clipped to the range.
    assert starts(weeks) == [
        "2025-01-01T00:00:00+01:00",
        "2025-01-06T00:00:00+01:00",
        "2025-01-13T00:00:00+01:00",
        "2025-01-20T00:00:00+01:00",
        "2025-01-27T00:00:00+01:00",
    ]
    assert consumption(weeks) == [120.0, 168.0, 168.0, 168.0, 120.0]
    months = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2025, 4, 1), "month")
    # March loses the hour skipped on the 30th.
    assert consumption(months) == [744.0, 672.0, 743.0]
    years = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2026, 1, 1), "year")
    assert consumption(years) == [2159.0]
    assert years.buckets[0].coverage == round(2159 / 8760, 6)


def test_a_source_without_readings_has_no_information(meter):
    usage = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2025, 1, 3), "day")
    assert consumption(usage) == [None, None]
    assert (usage.total.consumption, usage.total.cost, usage.total.coverage) == (None, None, 0.0)


def test_readings_only_after_the_range_tell_nothing_about_it(meter):
    add_readings(meter, [("2025-02-01 00:00", 5.0), ("2025-02-02 00:00", 6.0)])
    usage = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2025, 1, 3), "day")
    assert consumption(usage) == [None, None]


def test_readings_of_other_metrics_and_sources_are_ignored(household, meter):
    meter.metrics = {
        "energy": {"unit": "kWh", "cumulative": True},
        "export": {"unit": "kWh", "cumulative": True},
    }
    meter.save()
    add_readings(meter, [("2025-01-01 00:00", 0.0), ("2025-01-02 00:00", 24.0)])
    add_readings(meter, [("2025-01-01 12:00", 500.0), ("2025-01-01 18:00", 503.0)], metric="export")
    add_readings(
        DataSourceFactory(household=household), [("2025-01-01 06:00", 1.0), ("2025-01-01 07:00", 9.0)]
    )
    usage = source_usage(meter, "energy", dt.date(2025, 1, 1), dt.date(2025, 1, 2), "day")
    assert consumption(usage) == [24.0]
    export = source_usage(meter, "export", dt.date(2025, 1, 1), dt.date(2025, 1, 2), "day")
    assert consumption(export) == [3.0]
    assert export.buckets[0].coverage == 0.25


def test_instantaneous_metric_average_minimum_maximum_count(household):
    thermometer = DataSourceFactory(household=household, instantaneous=True)
    add_readings(
        thermometer,
        [
            ("2025-01-01 00:00", 10.0),
            ("2025-01-01 09:30", 20.0),
            ("2025-01-01 23:59", 15.5),
            ("2025-01-03 00:00", -2.0),
        ],
        metric="temperature",
    )
    usage = source_usage(thermometer, "temperature", dt.date(2025, 1, 1), dt.date(2025, 1, 4), "day")
    assert usage.kind == "instantaneous" and usage.unit == "°C"
    rows = [(b.average, b.minimum, b.maximum, b.count) for b in usage.buckets]
    # The reading at midnight of the 3rd belongs to the 3rd.
    assert rows == [(15.166667, 10.0, 20.0, 3), (None, None, None, 0), (-2.0, -2.0, -2.0, 1)]
    total = usage.total
    assert (total.average, total.minimum, total.maximum, total.count) == (10.875, -2.0, 20.0, 4)


def test_unaligned_range_clips_the_first_and_last_bucket(meter):
    add_readings(meter, hourly(at("2025-01-01 00:00"), 48, per_hour=1.0))
    usage = source_usage(meter, "energy", at("2025-01-01 18:00"), at("2025-01-02 06:30"), "day")
    assert starts(usage) == ["2025-01-01T18:00:00+01:00", "2025-01-02T00:00:00+01:00"]
    assert consumption(usage) == [6.0, 6.5]
    assert usage.buckets[-1].end.isoformat() == "2025-01-02T06:30:00+01:00"


def test_half_hour_time_zone_hours_start_at_half_past_in_utc():
    meter = DataSourceFactory(household=HouseholdFactory(timezone="Asia/Kolkata"))
    add_readings(meter, [("2025-01-01T00:00:00+00:00", 0.0), ("2025-01-01T02:00:00+00:00", 4.0)])
    usage = source_usage(
        meter,
        "energy",
        at("2025-01-01 05:00", "Asia/Kolkata"),
        at("2025-01-01 08:00", "Asia/Kolkata"),
        "hour",
    )
    # 05:30-07:30 local holds the readings: 05:00-06:00 gets the half hour after 05:30.
    assert consumption(usage) == [1.0, 2.0, 1.0]


def test_default_range_is_the_last_30_days_by_day(meter):
    now = at("2025-06-15 13:00")
    usage = source_usage(meter, "energy", now=now)
    assert usage.start.isoformat() == "2025-05-17T00:00:00+02:00"
    assert usage.end.isoformat() == "2025-06-16T00:00:00+02:00"
    assert len(usage.buckets) == 30


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "power"}, "Unknown metric 'power'; this source has: energy."),
        (
            {"interval": "fortnight"},
            "Unknown interval 'fortnight'; choose one of: hour, day, week, month, year.",
        ),
        ({"start": dt.date(2025, 2, 1), "end": dt.date(2025, 1, 1)}, "The start must be before the end."),
        (
            {"start": dt.date(2020, 1, 1), "end": dt.date(2025, 1, 1), "interval": "hour"},
            "This range needs more than 2000 buckets of one hour; "
            "choose a shorter range or a longer interval.",
        ),
    ],
)
def test_bad_arguments_say_what_is_wrong(meter, kwargs, message):
    arguments = {"metric": "energy", "start": dt.date(2025, 1, 1), "end": dt.date(2025, 1, 2)} | kwargs
    with pytest.raises(UsageError) as raised:
        source_usage(meter, **arguments)
    assert str(raised.value) == message
