"""Helpers shared by the readings tests and the page tests."""

from readings.changes import readings_changed
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
    """Tell the usage cache that every source's readings changed, as a commit would.

    Tests run inside a transaction that never commits, so the announcement made when readings are saved
    never arrives; query-count tests call this after adding rows, so that each measured request computes
    usage afresh, as the first request after new readings does.
    """
    readings_changed.send(sender=None, source_ids=frozenset(DataSource.objects.values_list("pk", flat=True)))
