"""Writes of many readings at once: the bulk endpoint, device batches and CSV import all go through
`ingest_readings`, so they share one set of rules.

The rules: every item is validated against the source's metrics; a reading that is already stored (same id,
or same source and timestamp with equal values) is counted as existing and stored again never; the same
timestamp with other values is a conflict reported for that item. By default a batch is atomic: one bad item
and nothing is stored. With ``partial=True`` the good items are stored and the bad ones reported.

On PostgreSQL the rows go through ``COPY`` into a temporary staging table and one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, which is several times faster than row-by-row inserts and
safe against a concurrent writer of the same rows. Other databases use ``bulk_create``.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

import orjson
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from uuid_utils import uuid7

from readings.changes import announce_readings_changed
from readings.models import Reading
from sources.metrics import validate_values

# Far outside any meter's life: a timestamp out here is a unit mistake (milliseconds for seconds, a year
# typed as 0025), not a reading.
EARLIEST_TIMESTAMP = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_TIMESTAMP = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)

TIMESTAMP_HELP = "an ISO 8601 date and time such as 2025-01-31T13:45:00+01:00"
NON_FIELD = "non_field_errors"


class InvalidItem:
    """An item its parser already found malformed (a CSV row with the wrong number of fields, say).

    Passed among the items, it is reported at its index like any other bad item.
    """

    __slots__ = ("message",)

    def __init__(self, message):
        self.message = message


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

    def errors_as_list(self):
        return [{"index": index, "errors": errors} for index, errors in sorted(self.errors.items())]


@dataclass(slots=True)
class _Row:
    index: int
    id: uuid.UUID | str
    timestamp: dt.datetime
    values: dict
    # True when the client chose the id: only then can it clash with another stored reading.
    has_client_id: bool


def ingest_readings(source, items, *, created_by=None, partial=False, tzinfo=None):
    """Store the readings `items` (mappings with "timestamp", "values" and an optional "id") of `source`.

    Naive timestamps are taken in `tzinfo`, by default the source's household time zone. Returns an
    IngestResult; in atomic mode (the default) nothing is stored when any item is invalid or conflicts.
    """
    rows, repeats, errors = _clean(source, items, tzinfo)
    if errors and not partial:
        return IngestResult(errors=errors, stored=False)
    if not rows:
        return IngestResult(existing=repeats, errors=errors)

    store = _store_with_copy if connection.vendor == "postgresql" else _store_with_bulk_create
    try:
        with transaction.atomic():
            created, existing, conflicts = store(source, rows, created_by)
            if conflicts and not partial:
                raise _RollBack(conflicts)
            if created:
                announce_readings_changed([source.pk])
    except _RollBack as rollback:
        errors.update(rollback.conflicts)
        return IngestResult(errors=dict(sorted(errors.items())), stored=False)
    errors.update(conflicts)
    return IngestResult(created=created, existing=existing + repeats, errors=dict(sorted(errors.items())))


class _RollBack(Exception):
    def __init__(self, conflicts):
        super().__init__("conflicting readings")
        self.conflicts = conflicts


# --- Validation ------------------------------------------------------------------------------------------


def _clean(source, items, tzinfo):
    """Validate every item; return the storable rows, the number of repeats within the batch, and
    {index: {field: [messages]}} for the bad items.

    A batch that repeats a timestamp or an id keeps the first occurrence; a repeat with equal values is
    the same reading sent twice, with other values a conflict.
    """
    metrics = source.metrics
    rows = []
    repeats = 0
    errors = {}
    first_at = {}  # timestamp -> row
    first_with_id = {}  # client id -> row
    zone = tzinfo
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            message = item.message if isinstance(item, InvalidItem) else _not_an_object(item)
            errors[index] = {NON_FIELD: [message]}
            continue
        item_errors = {}

        reading_id = item.get("id")
        has_client_id = reading_id is not None
        reading_id = _parse_id(reading_id, item_errors) if has_client_id else uuid7()

        value = item.get("timestamp")
        timestamp = None
        if value is None:
            item_errors["timestamp"] = ["This field is required."]
        elif isinstance(value, str):
            try:
                timestamp = dt.datetime.fromisoformat(value)
            except ValueError:
                item_errors["timestamp"] = [f"Timestamp must be {TIMESTAMP_HELP}, not {value!r}."]
        elif isinstance(value, dt.datetime):
            timestamp = value
        else:
            item_errors["timestamp"] = [f"Timestamp must be {TIMESTAMP_HELP}, not {value!r}."]
        if timestamp is not None:
            if timestamp.tzinfo is None:
                if zone is None:
                    zone = source.household.tzinfo
                timestamp = timestamp.replace(tzinfo=zone)
            if not EARLIEST_TIMESTAMP <= timestamp < LATEST_TIMESTAMP:
                item_errors["timestamp"] = [
                    f"Timestamp {timestamp.isoformat()} is outside the years 1900 to 2199."
                ]
                timestamp = None

        values = item.get("values")
        if values is None:
            item_errors["values"] = ["This field is required."]
        else:
            try:
                validate_values(values, metrics)
            except ValidationError as exc:
                item_errors["values"] = exc.messages

        if item_errors:
            errors[index] = item_errors
            continue

        row = _Row(index, reading_id, timestamp, values, has_client_id)
        earlier = first_at.get(timestamp)
        if earlier is not None:
            if earlier.values != values:
                errors[index] = {
                    "timestamp": [
                        f"Item {earlier.index} of this batch has the same timestamp with other values."
                    ]
                }
            elif has_client_id and earlier.has_client_id and reading_id != earlier.id:
                errors[index] = {"id": [f"Item {earlier.index} of this batch is the same reading, other id."]}
            else:
                repeats += 1
            continue
        if has_client_id:
            earlier = first_with_id.get(reading_id)
            if earlier is not None:
                errors[index] = {"id": [f"Item {earlier.index} of this batch already has this id."]}
                continue
            first_with_id[reading_id] = row
        first_at[timestamp] = row
        rows.append(row)
    return rows, repeats, errors


def _not_an_object(item):
    shown = repr(item)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"Each reading must be an object with 'timestamp' and 'values', not {shown}."


def _parse_id(value, item_errors):
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        item_errors["id"] = [f"Id must be a UUID, not {value!r}."]
        return None


def _conflict(row):
    return {
        "timestamp": [
            f"A reading with other values is already stored at {row.timestamp.isoformat()}; "
            "change it on its own rather than in a batch."
        ]
    }


def _id_clash(row):
    return {"id": [f"Id {row.id} is already used by another reading."]}


# --- PostgreSQL: COPY into a staging table, then one INSERT ... ON CONFLICT DO NOTHING ---------------------

STAGING_TABLE = "readings_ingest_staging"


def _store_with_copy(source, rows, created_by):
    """Return (created, existing, conflicts) after inserting the rows that are not stored yet."""
    table = Reading._meta.db_table
    # Metric names are [a-z0-9_] and values are numbers (both validated), so the JSON text needs no
    # escaping for COPY's text format.
    dumps = orjson.dumps
    payload = b"".join(
        b"%d\t%s\t%s\t%s\t%s\n"
        % (
            row.index,
            str(row.id).encode(),
            row.timestamp.isoformat().encode(),
            dumps(row.values),
            b"t" if row.has_client_id else b"f",
        )
        for row in rows
    )
    with connection.cursor() as cursor:
        # Dropped at commit; the DROP first allows two batches in one outer transaction.
        cursor.execute(
            f"DROP TABLE IF EXISTS {STAGING_TABLE}; "
            f"CREATE TEMPORARY TABLE {STAGING_TABLE} "
            "(idx integer, id uuid, ts timestamptz, vals jsonb, has_client_id boolean) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            f"COPY {STAGING_TABLE} (idx, id, ts, vals, has_client_id) FROM STDIN"
        ) as copy:
            copy.write(payload)
        cursor.execute(
            f'INSERT INTO {table} (id, data_source_id, "timestamp", "values", created_by_id, created_at) '
            f"SELECT id, %s, ts, vals, %s, %s FROM {STAGING_TABLE} ORDER BY ts "
            "ON CONFLICT DO NOTHING",
            [source.pk, getattr(created_by, "pk", None), timezone.now()],
        )
        created = cursor.rowcount
        if created == len(rows):
            return created, 0, {}
        # Some rows were there already: those stored with equal values are fine, the others conflict.
        cursor.execute(
            f"SELECT s.idx, (s.has_client_id AND EXISTS ("
            f"  SELECT 1 FROM {table} r WHERE r.id = s.id"
            f'  AND (r.data_source_id <> %s OR r."timestamp" <> s.ts OR r."values" <> s.vals)))'
            f" FROM {STAGING_TABLE} s"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} r"
            f'   WHERE r.data_source_id = %s AND r."timestamp" = s.ts AND r."values" = s.vals)'
            f" OR (s.has_client_id AND EXISTS (SELECT 1 FROM {table} r WHERE r.id = s.id"
            f'   AND (r.data_source_id <> %s OR r."timestamp" <> s.ts OR r."values" <> s.vals)))',
            [source.pk, source.pk, source.pk],
        )
        bad = dict(cursor.fetchall())
    if not bad:
        return created, len(rows) - created, {}
    by_index = {row.index: row for row in rows}
    conflicts = {
        index: _id_clash(by_index[index]) if id_clash else _conflict(by_index[index])
        for index, id_clash in sorted(bad.items())
    }
    return created, len(rows) - created - len(conflicts), conflicts


# --- Any other database: compare with what is stored, then bulk_create --------------------------------------

# Below SQLite's limit on the number of parameters of one statement.
LOOKUP_CHUNK = 500


def _store_with_bulk_create(source, rows, created_by):
    try:
        with transaction.atomic():
            return _compare_and_create(source, rows, created_by)
    except IntegrityError:
        # A concurrent writer stored one of these rows between the comparison and the insert: compare again.
        with transaction.atomic():
            return _compare_and_create(source, rows, created_by)


def _compare_and_create(source, rows, created_by):
    stored_at = {}
    stored_by_id = {}
    client_ids = [row.id for row in rows if row.has_client_id]
    timestamps = [row.timestamp for row in rows]
    for start in range(0, len(timestamps), LOOKUP_CHUNK):
        stored_at.update(
            (timestamp, (reading_id, values))
            for reading_id, timestamp, values in Reading.objects.filter(
                data_source=source, timestamp__in=timestamps[start : start + LOOKUP_CHUNK]
            ).values_list("id", "timestamp", "values")
        )
    for start in range(0, len(client_ids), LOOKUP_CHUNK):
        stored_by_id.update(
            (reading_id, (source_id, timestamp, values))
            for reading_id, source_id, timestamp, values in Reading.objects.filter(
                pk__in=client_ids[start : start + LOOKUP_CHUNK]
            ).values_list("id", "data_source_id", "timestamp", "values")
        )

    new = []
    existing = 0
    conflicts = {}
    for row in rows:
        stored = stored_by_id.get(row.id) if row.has_client_id else None
        if stored is not None and stored != (source.pk, row.timestamp, row.values):
            conflicts[row.index] = _id_clash(row)
            continue
        stored = stored_at.get(row.timestamp)
        if stored is None:
            new.append(row)
        elif stored[1] == row.values:
            existing += 1
        else:
            conflicts[row.index] = _conflict(row)

    Reading.objects.bulk_create(
        [
            Reading(
                id=row.id if row.has_client_id else uuid.UUID(str(row.id)),
                data_source=source,
                timestamp=row.timestamp,
                values=row.values,
                created_by=created_by,
            )
            for row in new
        ],
        batch_size=LOOKUP_CHUNK,
    )
    return len(new), existing, conflicts
