"""Writes of many readings at once: the bulk endpoint, device batches and CSV import all go through
`ingest_readings`, so they share one set of rules.

The rules: every item is validated against the source's metrics; a reading that is already stored (same id,
or same source and timestamp with equal values) is counted as existing and not stored again; the same
timestamp with other values is a conflict reported for that item. By default a batch is atomic: one bad item
and nothing is stored. With ``partial=True`` the good items are stored and the bad ones reported.

On PostgreSQL the rows go through ``COPY``: straight into the table when the source has nothing in the
batch's time span, else into a temporary table and on with ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``,
which is safe against a concurrent writer of the same rows. Other databases use ``bulk_create``.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction

from readings.changes import lock_sources, readings_written
from readings.models import Reading
from readings.services.copy import copy_payload, store_with_copy
from readings.services.errors import SourceGone
from readings.services.portable import store_with_bulk_create
from readings.services.validation import clean_batch, contested_error
from readings.usage.rollup import hourly_rollups, refresh_batch


@dataclass
class IngestResult:
    """What became of a batch: counts, and the errors of the items that were not stored, by index."""

    created: int = 0
    existing: int = 0
    # index -> {field: [message, ...]}, in index order.
    errors: dict = field(default_factory=dict)
    # False when an atomic batch was refused as a whole.
    stored: bool = True

    @property
    def failed(self):
        return len(self.errors)


def ingest_readings(source, items, *, created_by=None, partial=False, tzinfo=None):
    """Store the readings `items` (mappings with "timestamp", "values" and an optional "id") of `source`.

    Naive timestamps are taken in `tzinfo`, by default the source's household time zone. Returns an
    IngestResult; in atomic mode (the default) nothing is stored when any item is invalid or conflicts.
    """
    batch = prepare_readings(source, items, created_by=created_by, tzinfo=tzinfo)
    return store_readings(batch, partial=partial)


@dataclass
class PreparedBatch:
    """Items validated and laid out for the database, not yet stored."""

    source: object
    created_by: object
    # (index, id or None, timestamp, values, microseconds since the epoch) per storable item.
    rows: list
    # Items that repeated an earlier item of the batch exactly.
    repeats: int
    errors: dict
    # The rows as COPY data, on PostgreSQL.
    payload: bytes | None
    # The rollups of the rows' hours, on PostgreSQL, for the hours the batch is the first to fill.
    hourly: dict | None
    # Items at the time of an earlier item with other values: (index, id, timestamp, values, earlier index).
    contested: list


def prepare_readings(source, items, *, created_by=None, tzinfo=None):
    """The first half of `ingest_readings`: validation and layout, pure Python with no query when `tzinfo`
    is given, so that an import can prepare the next batch while the database stores this one."""
    rows, repeats, errors, contested = clean_batch(source, items, tzinfo)
    payload = hourly = None
    if rows and connection.vendor == "postgresql":
        payload = copy_payload(source, rows, created_by)
        hourly = hourly_rollups(rows, source.metric_names)
    return PreparedBatch(source, created_by, rows, repeats, errors, payload, hourly, contested)


def store_readings(batch, *, partial=False):
    """The second half of `ingest_readings`: store a prepared batch in one transaction."""
    errors = batch.errors
    if errors and not partial:
        return IngestResult(errors=errors, stored=False)
    if not batch.rows:
        return IngestResult(existing=batch.repeats, errors=errors)

    source = batch.source
    try:
        with transaction.atomic():
            # Before any row: a source being deleted waits for this batch, or this batch for its deletion.
            lock_sources([source.pk])
            if batch.payload is not None:
                created, existing, conflicts = store_with_copy(
                    source, batch.rows, batch.payload, getattr(batch.created_by, "pk", None)
                )
            else:
                created, existing, conflicts = store_with_bulk_create(source, batch.rows, batch.created_by)
            if batch.contested:
                settled, contested_errors = _settle(source, batch.contested)
                existing += settled
                conflicts = {**conflicts, **contested_errors}
            if conflicts and not partial:
                raise _RollBack(conflicts)
            if created:
                readings_written({source.pk: created})
                refresh_batch(source, batch.rows, created, batch.hourly)
    except _RollBack as rollback:
        return IngestResult(errors=dict(sorted({**errors, **rollback.conflicts}.items())), stored=False)
    except IntegrityError as exc:
        # At commit, SQLite's deferred check of the source key: the source was deleted meanwhile.
        raise SourceGone(source.pk) from exc
    return IngestResult(
        created=created,
        existing=existing + batch.repeats,
        errors=dict(sorted({**errors, **conflicts}.items())),
    )


def _settle(source, contested):
    """(how many are existing, {index: errors} of the others) for the contested items, against what is stored
    at their times now that the batch's own rows are in: an item equal to it (and of the same id, if it
    gives one) is the reading already stored; any other conflicts with the earlier item of its time."""
    times = {item[2] for item in contested}
    stored = {
        timestamp: (reading_id, values)
        for timestamp, reading_id, values in Reading.objects.filter(
            data_source=source, timestamp__in=times
        ).values_list("timestamp", "id", "values")
    }
    existing, errors = 0, {}
    for index, reading_id, timestamp, values, earlier in contested:
        stored_id, stored_values = stored.get(timestamp, (None, None))
        if stored_values == values and reading_id in (None, stored_id):
            existing += 1
        else:
            errors[index] = contested_error(earlier)
    return existing, errors


class _RollBack(Exception):
    def __init__(self, conflicts):
        super().__init__("conflicting readings")
        self.conflicts = conflicts
