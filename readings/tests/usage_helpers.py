"""Small builders for the usage tests: readings at local wall-clock times, and compact views of results."""

import datetime as dt
import zoneinfo

from readings.models import Reading
from readings.tests.factories import bulk_create_readings


def at(text, tz="Europe/Berlin"):
    """An aware instant from 'YYYY-MM-DD HH:MM' wall-clock time in `tz`, or from an ISO string with offset."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zoneinfo.ZoneInfo(tz))


def add_readings(source, points, metric="energy", tz="Europe/Berlin"):
    """Store readings of `source` from [(time, value), ...]; times as for `at`."""
    bulk_create_readings(
        Reading(
            data_source=source,
            timestamp=at(moment, tz) if isinstance(moment, str) else moment,
            values={metric: value},
        )
        for moment, value in points
    )


def hourly(start, hours, per_hour, first_value=0.0):
    """Readings every hour (absolute time) from `start`, rising by `per_hour`."""
    start = start.astimezone(dt.UTC)
    return [(start + dt.timedelta(hours=n), first_value + n * per_hour) for n in range(hours + 1)]


def consumption(usage):
    return [bucket.consumption for bucket in usage.buckets]


def starts(usage):
    return [bucket.start.isoformat() for bucket in usage.buckets]
