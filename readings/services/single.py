"""One reading created, changed or deleted: the API's single-reading routes, the page form, the admin.

Each runs in one transaction that starts by moving the source's counters (readings.changes.readings_written):
that UPDATE locks the source's row, so writers of one source and its deletion take turns, and the rollups
refreshed after it see every earlier writer's readings. The reading's own row is locked next, so a change
and a deletion of one reading take turns too: a change of a reading deleted meanwhile is ReadingGone
(never an insert of it again), and of two deletions one deletes and the other finds it gone.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from uuid_utils.compat import uuid7

from readings.changes import readings_written
from readings.models import Reading
from readings.services.errors import ReadingGone, ReadingsClash, SourceGone
from readings.usage import rollup
from sources.metrics import validate_values, values_are_valid

CHANGEABLE = ("data_source", "timestamp", "values", "created_by")


def create_reading(source, *, timestamp, values, created_by=None, reading_id=None):
    """Store a new reading of `source` and return it. ReadingsClash when the source has a reading at this
    time or the id is taken, SourceGone when the source was deleted meanwhile, ValidationError for values
    the source's metrics refuse."""
    _check_values(values, source)
    reading = Reading(
        id=reading_id or uuid7(),
        data_source=source,
        timestamp=timestamp,
        values=values,
        created_by=created_by,
    )
    inserting = False
    try:
        with transaction.atomic():
            readings_written({source.pk: 1})
            inserting = True
            _insert(reading)
            inserting = False
            rollup.refresh_inserted(source.pk, timestamp, values, locked=True)
    except IntegrityError as exc:
        if inserting:
            raise ReadingsClash(
                f"Source {source.pk} already has a reading at {timestamp.isoformat()}."
            ) from exc
        # At commit, SQLite's deferred check of the source key.
        raise SourceGone(source.pk) from exc
    reading._state.adding = False
    return reading


def update_reading(reading, **changes):
    """Change the fields `changes` (of CHANGEABLE) of the stored `reading` and return it as stored now.

    ReadingGone when it is not stored under its source any more, ReadingsClash when its source has another
    reading at the new time, SourceGone when a source to move it to no longer exists."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise TypeError(f"update_reading() cannot change {', '.join(sorted(unknown))}")
    source = changes.get("data_source", reading.data_source)
    if "values" in changes or "data_source" in changes:
        _check_values(changes.get("values", reading.values), source)
    deltas = {reading.data_source_id: 0}
    if source.pk != reading.data_source_id:
        deltas = {reading.data_source_id: -1, source.pk: 1}
    try:
        with transaction.atomic():
            readings_written(deltas)
            before = _stored_position(reading)
            fields = dict(changes)
            if "data_source" in fields:
                fields["data_source_id"] = fields.pop("data_source").pk
            # The queryset's own update, which ReadingQuerySet refuses for these fields outside this service.
            QuerySet.update(Reading.objects.filter(pk=reading.pk), **fields)
            for name, value in changes.items():
                setattr(reading, name, value)
            rollup.refresh_positions([before, _position(reading)], locked=True)
    except IntegrityError as exc:
        raise ReadingsClash(
            f"Source {source.pk} already has a reading at {reading.timestamp.isoformat()}."
        ) from exc
    return reading


def delete_reading(reading):
    """Delete the stored `reading`; ReadingGone when it is not stored under its source any more (deleted
    meanwhile: a deletion happens once)."""
    with transaction.atomic():
        readings_written({reading.data_source_id: -1})
        before = _stored_position(reading)
        Reading.objects.filter(pk=reading.pk)._raw_delete(Reading.objects.db)
        rollup.refresh_positions([before], locked=True)


_COLUMNS = ", ".join(connection.ops.quote_name(field.column) for field in Reading._meta.concrete_fields)
INSERT = (
    f"INSERT INTO {Reading._meta.db_table} ({_COLUMNS})"
    f" VALUES ({', '.join(['%s'] * len(Reading._meta.concrete_fields))})"
)


def _insert(reading):
    """The reading's row, as bulk_create would write it, without building the statement each time."""
    reading.created_at = timezone.now()
    values = [
        field.get_db_prep_save(getattr(reading, field.attname), connection)
        for field in Reading._meta.concrete_fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(INSERT, values)


def _check_values(values, source):
    if not values_are_valid(values, source.metrics):
        try:
            validate_values(values, source.metrics)
        except ValidationError as exc:
            raise ValidationError({"values": exc.messages}) from exc


def _position(reading):
    return (reading.data_source_id, reading.timestamp, list(reading.values))


def _stored_position(reading):
    """(source id, timestamp, metric names) of the reading as stored, its row locked until the transaction
    ends; ReadingGone (which rolls the transaction back) when it is not stored under its source."""
    row = (
        Reading.objects.select_for_update()
        .filter(pk=reading.pk, data_source_id=reading.data_source_id)
        .values_list("data_source_id", "timestamp", "values")
        .first()
    )
    if row is None:
        raise ReadingGone(f"Reading {reading.pk} is not stored in source {reading.data_source_id}.")
    return (row[0], row[1], list(row[2]))
