"""Buckets of local time: where hours, days, weeks, months and years of a household begin and end.

Every edge is computed here, in Python with zoneinfo, as an aware instant in UTC (two datetimes that
share a zoneinfo compare and subtract by wall-clock time, which is wrong across a clock change); the
database only compares timestamps against these edges. So a local day is whatever the time zone says it is
(23 or 25 hours on daylight-saving days, starting at 01:00 where the clocks jump at midnight), and SQLite
and PostgreSQL cannot disagree about it.
"""

import datetime as dt
import enum

UTC = dt.UTC


class Interval(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class RangeError(ValueError):
    """A range of time that usage cannot be computed for; the message says why, for the API's 400."""


def local_moment(value, tz):
    """An aware instant from a date (its first instant in `tz`), a naive datetime (wall-clock time in `tz`)
    or an aware datetime."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=tz)).astimezone(UTC)
    if isinstance(value, dt.date):
        return first_instant_of(value, tz)
    raise TypeError(f"Expected a date or datetime, not {value!r}.")


def first_instant_of(day, tz):
    # fold=0 turns a midnight that the clocks skip into the instant of the jump: when that day begins.
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _first_day(day, interval):
    if interval == Interval.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if interval == Interval.MONTH:
        return day.replace(day=1)
    if interval == Interval.YEAR:
        return day.replace(month=1, day=1)
    return day


def _add_days(day, interval, n):
    if interval == Interval.DAY:
        return day + dt.timedelta(days=n)
    if interval == Interval.WEEK:
        return day + dt.timedelta(weeks=n)
    months = n * (12 if interval == Interval.YEAR else 1)
    return _add_months(day, months)


def _add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return day.replace(year=year, month=month, day=min(day.day, last))


def floor_edge(moment, interval, tz):
    """The start of the bucket that contains `moment`."""
    local = moment.astimezone(tz)
    if interval == Interval.HOUR:
        # Keeps the fold, so the repeated hour of a 25-hour day is a bucket of its own.
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    return first_instant_of(_first_day(local.date(), interval), tz)


def next_edge(moment, interval, tz):
    """The first bucket edge strictly after `moment`."""
    if interval == Interval.HOUR:
        start = floor_edge(moment, interval, tz)
        # Local hours start every 60 minutes, except where a time zone moves its clocks by half an hour
        # (Lord Howe Island): there the hour after the change starts at :30, at the change itself.
        for minutes in (15, 30, 45, 60):
            candidate = start + dt.timedelta(minutes=minutes)
            local = candidate.astimezone(tz)
            if local.minute == 0 and local.second == 0:
                return candidate
        return start + dt.timedelta(hours=1)
    first = _first_day(moment.astimezone(tz).date(), interval)
    return first_instant_of(_add_days(first, interval, 1), tz)


def bucket_edges(start, end, interval, tz, max_buckets):
    """[start, e1, e2, ..., end]: the bucket edges of [start, end), the first and last bucket clipped to it.

    Raises RangeError when the range is empty or needs more than `max_buckets` buckets.
    """
    if start >= end:
        raise RangeError("The start must be before the end.")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    edges = [start]
    while True:
        following = next_edge(edges[-1], interval, tz)
        if following >= end:
            edges.append(end)
            return edges
        edges.append(following)
        if len(edges) > max_buckets:
            raise RangeError(
                f"This range needs more than {max_buckets} buckets of one {interval}; "
                "choose a shorter range or a longer interval."
            )


def shift(moment, interval, n, tz):
    """`moment` moved by `n` intervals of wall-clock time; months keep their day, clamped to the last."""
    if interval == Interval.HOUR:
        return moment.astimezone(UTC) + dt.timedelta(hours=n)
    local = moment.astimezone(tz)
    day = _add_days(local.date(), interval, n)
    wall = dt.datetime.combine(day, local.time().replace(fold=0), tzinfo=tz)
    return wall.astimezone(UTC)


def intervals_spanned(start, end, interval, tz):
    """How many intervals, counted from `start`, it takes to reach `end` (at least 1)."""
    n = 1
    while shift(start, interval, n, tz) < end:
        n += 1
    return n


def previous_range(start, end, interval, tz):
    """The range just before [start, end), moved back by as many intervals as the range spans."""
    n = intervals_spanned(start, end, interval, tz)
    return shift(start, interval, -n, tz), shift(end, interval, -n, tz)


def year_earlier_range(start, end, tz):
    return shift(start, Interval.YEAR, -1, tz), shift(end, Interval.YEAR, -1, tz)
