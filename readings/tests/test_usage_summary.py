"""household_summary: per-source figures, totals per type, the previous period and the year before."""

import datetime as dt

import pytest

from readings.tests.usage_helpers import add_readings
from readings.usage import TypeTotal, household_summary
from sources.models import SourceType
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


def daily(source, start, end, per_day, metric="energy"):
    """A reading at every local midnight from `start` to `end` (dates, inclusive), with per_day(date) added
    each day: 10 a day in most months, see `rate` below."""
    value, day, points = 0.0, start, []
    while day <= end:
        points.append((f"{day.isoformat()} 00:00", value))
        value += per_day(day)
        day += dt.timedelta(days=1)
    add_readings(source, points, metric=metric)


def rate(day):
    # 10 a day until January 2025, 20 a day in February 2025, 30 a day in March 2025.
    return {(2025, 2): 20.0, (2025, 3): 30.0}.get((day.year, day.month), 10.0)


@pytest.fixture
def sources(household):
    electricity = DataSourceFactory(household=household, name="Mains", price_per_unit="0.250000")
    daily(electricity, dt.date(2024, 3, 1), dt.date(2025, 4, 1), rate)
    heat_pump = DataSourceFactory(household=household, name="Heat pump")  # electricity, no price
    daily(heat_pump, dt.date(2025, 2, 1), dt.date(2025, 4, 1), lambda day: 1.0)
    gas = DataSourceFactory(
        household=household,
        name="Gas",
        type=SourceType.GAS,
        metrics={"volume": {"unit": "m³", "cumulative": True}},
        price_per_unit="1.100000",
    )
    daily(gas, dt.date(2025, 3, 1), dt.date(2025, 4, 1), lambda day: 2.0, metric="volume")
    DataSourceFactory(household=household, instantaneous=True)  # has no consumption: left out
    DataSourceFactory(name="Elsewhere")  # another household's meter: left out
    return electricity, heat_pump, gas


def figures(period):
    return [(s.source.name, s.metric, s.consumption, s.cost, s.coverage) for s in period.sources]


def test_a_month_compared_with_the_month_before_and_a_year_before(household, sources):
    summary = household_summary(household, dt.date(2025, 3, 1), dt.date(2025, 4, 1), "month")

    current = summary.current
    assert (current.start.isoformat(), current.end.isoformat()) == (
        "2025-03-01T00:00:00+01:00",
        "2025-04-01T00:00:00+02:00",
    )
    assert figures(current) == [
        ("Gas", "volume", 62.0, 68.2, 1.0),
        ("Heat pump", "energy", 31.0, None, 1.0),
        ("Mains", "energy", 930.0, 232.5, 1.0),
    ]
    assert current.totals == [
        TypeTotal("electricity", "kWh", 961.0, 232.5),
        TypeTotal("gas", "m³", 62.0, 68.2),
    ]
    assert current.cost == 300.7

    previous = summary.previous
    assert previous.start.isoformat() == "2025-02-01T00:00:00+01:00"
    assert figures(previous) == [
        ("Gas", "volume", None, None, 0.0),
        ("Heat pump", "energy", 28.0, None, 1.0),
        ("Mains", "energy", 560.0, 140.0, 1.0),
    ]
    assert previous.totals == [
        TypeTotal("electricity", "kWh", 588.0, 140.0),
        TypeTotal("gas", "m³", None, None),
    ]
    assert previous.cost == 140.0

    year_earlier = summary.year_earlier
    assert (year_earlier.start.isoformat(), year_earlier.end.isoformat()) == (
        "2024-03-01T00:00:00+01:00",
        "2024-04-01T00:00:00+02:00",
    )
    assert figures(year_earlier) == [
        ("Gas", "volume", None, None, 0.0),
        ("Heat pump", "energy", None, None, 0.0),
        ("Mains", "energy", 310.0, 77.5, 1.0),
    ]
    assert year_earlier.cost == 77.5


def test_month_to_date_is_compared_with_the_same_days(household, sources):
    summary = household_summary(household, dt.date(2025, 3, 1), dt.date(2025, 3, 16), "month")
    mains = [s for s in summary.current.sources if s.source.name == "Mains"]
    assert [s.consumption for s in mains] == [450.0]
    assert summary.previous.start.isoformat() == "2025-02-01T00:00:00+01:00"
    assert summary.previous.end.isoformat() == "2025-02-16T00:00:00+01:00"
    assert figures(summary.previous)[2] == ("Mains", "energy", 300.0, 75.0, 1.0)
    assert figures(summary.year_earlier)[2] == ("Mains", "energy", 150.0, 37.5, 1.0)


def test_buckets_of_a_quarter_by_month(household, sources):
    summary = household_summary(household, dt.date(2025, 1, 1), dt.date(2025, 4, 1), "month")
    mains = summary.current.sources[2]
    assert [b.consumption for b in mains.buckets] == [310.0, 560.0, 930.0]
    assert [b.cost for b in mains.buckets] == [77.5, 140.0, 232.5]
    # Three months earlier: October to December 2024.
    assert summary.previous.start.isoformat() == "2024-10-01T00:00:00+02:00"
    assert [b.consumption for b in summary.previous.sources[2].buckets] == [310.0, 300.0, 310.0]


def test_a_household_without_sources(household):
    summary = household_summary(household, dt.date(2025, 3, 1), dt.date(2025, 4, 1), "month")
    assert (summary.current.sources, summary.current.totals, summary.current.cost) == ([], [], None)


def test_default_is_the_last_twelve_months(household, sources):
    summary = household_summary(household, now=dt.datetime(2025, 3, 20, 12, tzinfo=dt.UTC))
    assert summary.current.start.isoformat() == "2024-04-01T00:00:00+02:00"
    assert summary.current.end.isoformat() == "2025-04-01T00:00:00+02:00"
    assert len(summary.current.sources[2].buckets) == 12
    assert summary.previous.end.isoformat() == "2024-04-01T00:00:00+02:00"
