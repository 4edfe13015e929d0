"""Bucket edges, shifts and ranges in local time, and the spreading of crossing pairs (no database)."""

import datetime as dt
import itertools
import zoneinfo

import pytest

from readings.tests.usage_helpers import at
from readings.usage import calendar
from readings.usage.calendar import Interval, RangeError
from readings.usage.spread import spread
from readings.usage.sql import CumulativeBucket, CumulativeStats, Point

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
LORD_HOWE = zoneinfo.ZoneInfo("Australia/Lord_Howe")


def local(edges, tz=BERLIN):
    return [edge.astimezone(tz).isoformat() for edge in edges]


def test_day_edges_across_both_clock_changes_are_local_midnights():
    spring = calendar.bucket_edges(at("2025-03-29 00:00"), at("2025-04-01 00:00"), Interval.DAY, BERLIN, 10)
    assert [b - a for a, b in itertools.pairwise(spring)] == [
        dt.timedelta(hours=24),
        dt.timedelta(hours=23),
        dt.timedelta(hours=24),
    ]
    fall = calendar.bucket_edges(at("2025-10-26 00:00"), at("2025-10-27 00:00"), Interval.HOUR, BERLIN, 30)
    assert len(fall) == 26
    assert local(fall[2:5]) == [
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T02:00:00+01:00",
        "2025-10-26T03:00:00+01:00",
    ]


def test_hours_across_a_half_hour_clock_change():
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 becomes 02:30 on 2025-10-05, so the local hour
    # that starts then is half an hour long.
    edges = calendar.bucket_edges(
        at("2025-10-05 01:00", "Australia/Lord_Howe"),
        at("2025-10-05 05:00", "Australia/Lord_Howe"),
        Interval.HOUR,
        LORD_HOWE,
        10,
    )
    assert local(edges, LORD_HOWE) == [
        "2025-10-05T01:00:00+10:30",
        "2025-10-05T02:30:00+11:00",
        "2025-10-05T03:00:00+11:00",
        "2025-10-05T04:00:00+11:00",
        "2025-10-05T05:00:00+11:00",
    ]


def test_a_day_that_begins_at_one_because_the_clocks_skip_midnight():
    santiago = zoneinfo.ZoneInfo("America/Santiago")
    start = calendar.local_moment(dt.date(2025, 9, 7), santiago)
    assert start.astimezone(santiago).isoformat() == "2025-09-07T01:00:00-03:00"
    assert calendar.floor_edge(at("2025-09-07 12:00", "America/Santiago"), Interval.DAY, santiago) == start


def test_weeks_start_on_monday_months_and_years_on_the_first():
    moment = at("2025-05-15 10:00")  # a Thursday
    assert local([calendar.floor_edge(moment, Interval.WEEK, BERLIN)]) == ["2025-05-12T00:00:00+02:00"]
    assert local([calendar.next_edge(moment, Interval.MONTH, BERLIN)]) == ["2025-06-01T00:00:00+02:00"]
    assert local([calendar.next_edge(moment, Interval.YEAR, BERLIN)]) == ["2026-01-01T00:00:00+01:00"]


def test_shifting_by_months_keeps_the_day_or_the_last_of_the_month():
    assert local([calendar.shift(at("2025-03-31 00:00"), Interval.MONTH, -1, BERLIN)]) == [
        "2025-02-28T00:00:00+01:00"
    ]
    assert local([calendar.shift(at("2024-02-29 00:00"), Interval.YEAR, 1, BERLIN)]) == [
        "2025-02-28T00:00:00+01:00"
    ]


def test_previous_range_moves_back_by_the_intervals_the_range_spans():
    previous = calendar.previous_range(at("2025-03-15 00:00"), at("2025-04-15 00:00"), Interval.MONTH, BERLIN)
    assert local(previous) == ["2025-02-15T00:00:00+01:00", "2025-03-15T00:00:00+01:00"]
    days = calendar.previous_range(at("2025-03-30 00:00"), at("2025-04-01 00:00"), Interval.DAY, BERLIN)
    assert local(days) == ["2025-03-28T00:00:00+01:00", "2025-03-30T00:00:00+01:00"]


def test_bucket_limit_and_empty_range():
    with pytest.raises(RangeError, match="more than 3 buckets"):
        calendar.bucket_edges(at("2025-01-01 00:00"), at("2025-01-05 00:00"), Interval.DAY, BERLIN, 3)
    assert (
        len(calendar.bucket_edges(at("2025-01-01 00:00"), at("2025-01-04 00:00"), Interval.DAY, BERLIN, 3))
        == 4
    )
    with pytest.raises(RangeError, match="The start must be before the end"):
        calendar.bucket_edges(at("2025-01-01 00:00"), at("2025-01-01 00:00"), Interval.DAY, BERLIN, 3)


def point(text, value):
    return Point(at(text).astimezone(dt.UTC), value)


def test_spread_shares_a_crossing_pair_by_time_and_ignores_a_drop():
    edges = calendar.bucket_edges(at("2025-01-01 00:00"), at("2025-01-05 00:00"), Interval.DAY, BERLIN, 10)
    empty = CumulativeBucket(None, None, 0.0)
    stats = CumulativeStats(
        before=point("2024-12-31 18:00", 0.0),
        after=None,
        buckets=[
            CumulativeBucket(point("2025-01-01 06:00", 12.0), point("2025-01-01 18:00", 20.0), 8.0),
            empty,
            CumulativeBucket(point("2025-01-03 18:00", 3.0), point("2025-01-03 18:00", 3.0), 0.0),
            empty,
        ],
    )
    result = spread(stats, edges)
    # 12 over 12 hours (6 of them in 2024); 8 inside; a drop from 20 to 3 across the 2nd adds nothing.
    assert result.consumption == [6.0 + 8.0, 0.0, 0.0, None]
    assert result.covered_seconds == [86400.0, 86400.0, 18 * 3600.0, 0.0]
