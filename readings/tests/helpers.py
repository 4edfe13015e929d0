"""Helpers shared by the readings tests and the page tests."""

from readings.changes import announce_readings_changed
from readings.models import Reading
from sources.models import DataSource


def stored(source):
    """The (ISO timestamp in UTC, values) of every reading of `source`, oldest first."""
    return [
        (timestamp.isoformat(), values)
        for timestamp, values in Reading.objects.of_source(source)
        .order_by("timestamp")
        .values_list("timestamp", "values")
    ]


def readings_committed():
    """Move every source's readings version, as a writer of readings does.

    For tests that add rows past the writers (bulk_create in factories): each measured request then computes
    usage afresh, as the first request after new readings does.
    """
    announce_readings_changed(DataSource.objects.values_list("pk", flat=True))
