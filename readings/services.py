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

import datetime as dt
import struct
import uuid
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field

import orjson
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from uuid_utils import uuid7
from uuid_utils.compat import uuid7 as compat_uuid7

from accounts.models import User
from homelog.api.moments import EARLIEST, EXAMPLE, LATEST, aware_moment, parse_moment
from readings.changes import announce_readings_changed, count_readings
from readings.models import Reading
from readings.usage.rollup import hourly_rollups, refresh_batch
from sources.metrics import validate_values, values_are_valid
from sources.models import DataSource

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


def prepare_readings(source, items, *, created_by=None, tzinfo=None):
    """The first half of `ingest_readings`: validation and layout, pure Python with no query when `tzinfo`
    is given, so that an import can prepare the next batch while the database stores this one."""
    rows, repeats, errors = _clean(source, items, tzinfo)
    payload = hourly = None
    if rows and connection.vendor == "postgresql":
        payload = _copy_payload(source, rows, created_by)
        hourly = hourly_rollups(rows, source.metric_names)
    return PreparedBatch(source, created_by, rows, repeats, errors, payload, hourly)


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
            if batch.payload is not None:
                created, existing, conflicts = _store_with_copy(
                    source, batch.rows, batch.payload, getattr(batch.created_by, "pk", None)
                )
            else:
                created, existing, conflicts = _store_with_bulk_create(source, batch.rows, batch.created_by)
            if conflicts and not partial:
                raise _RollBack(conflicts)
            if created:
                count_readings(source.pk, created)
                refresh_batch(source, batch.rows, created, batch.hourly)
                announce_readings_changed([source.pk])
    except _RollBack as rollback:
        return IngestResult(errors=dict(sorted({**errors, **rollback.conflicts}.items())), stored=False)
    return IngestResult(
        created=created,
        existing=existing + batch.repeats,
        errors=dict(sorted({**errors, **conflicts}.items())),
    )


class _RollBack(Exception):
    def __init__(self, conflicts):
        super().__init__("conflicting readings")
        self.conflicts = conflicts


# --- Validation ------------------------------------------------------------------------------------------


def _clean(source, items, tzinfo):
    """Validate every item; return the storable rows, the number of repeats within the batch, and
    {index: {field: [messages]}} for the bad items.

    A row is a tuple (index, id or None for a new one, timestamp, values, microseconds since PostgreSQL's
    epoch): tuples, because this loop runs once per reading of every import; the microseconds are the
    batch's key of an instant (an int hashes faster than an aware datetime) and its COPY form. A batch that
    repeats a timestamp or an id keeps the first occurrence; a repeat with equal values is the same reading
    sent twice, with other values a conflict.
    """
    metrics = source.metrics
    rows = []
    repeats = 0
    errors = {}
    first_at = {}  # microseconds since the epoch -> row
    first_with_id = {}  # client id -> row
    zone = tzinfo
    fromisoformat = dt.datetime.fromisoformat
    for index, item in enumerate(items):
        if type(item) is not dict:
            message = item.message if isinstance(item, InvalidItem) else _not_an_object(item)
            errors[index] = {NON_FIELD: [message]}
            continue
        item_errors = {}

        reading_id = item.get("id")
        if reading_id is not None:
            reading_id = _parse_id(reading_id, item_errors)

        value = item.get("timestamp")
        timestamp = None
        if type(value) is str:
            try:
                timestamp = fromisoformat(value)
                if not EARLIEST <= timestamp.date() < LATEST:
                    raise ValueError("out of range")
            except ValueError:
                # The API's own parser has the last word, and the message, for whatever the fast one refused.
                try:
                    timestamp = parse_moment(value)
                except ValidationError as exc:
                    item_errors["timestamp"] = exc.messages
                    timestamp = None
        elif isinstance(value, dt.datetime):
            timestamp = value
        elif value is None:
            item_errors["timestamp"] = ["This field is required."]
        else:
            item_errors["timestamp"] = [f"Expected an ISO 8601 date-time ({EXAMPLE})."]
        # A date alone (parse_moment's answer to "2025-1-5") has no tzinfo either: it becomes local midnight.
        if timestamp is not None and getattr(timestamp, "tzinfo", None) is None:
            if zone is None:
                zone = source.household.tzinfo
            timestamp = aware_moment(timestamp, zone)

        values = item.get("values")
        if values is None:
            item_errors["values"] = ["This field is required."]
        elif not values_are_valid(values, metrics):
            try:
                validate_values(values, metrics)
            except ValidationError as exc:
                item_errors["values"] = exc.messages

        if item_errors:
            errors[index] = item_errors
            continue

        instant = (timestamp - _PG_EPOCH) // _MICROSECOND
        earlier = first_at.get(instant)
        if earlier is not None:
            if earlier[3] != values:
                errors[index] = {
                    "timestamp": [f"Item {earlier[0]} of this batch has this timestamp with other values."]
                }
            elif reading_id is not None and earlier[1] is not None and reading_id != earlier[1]:
                errors[index] = {"id": [f"Item {earlier[0]} of this batch is the same reading, other id."]}
            else:
                repeats += 1
            continue
        row = (index, reading_id, timestamp, values, instant)
        if reading_id is not None:
            earlier = first_with_id.get(reading_id)
            if earlier is not None:
                errors[index] = {"id": [f"Item {earlier[0]} of this batch already has this id."]}
                continue
            first_with_id[reading_id] = row
        first_at[instant] = row
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


def _conflict(timestamp):
    return {
        "timestamp": [
            f"A reading with other values is already stored at {timestamp.isoformat()}; "
            "change it on its own rather than in a batch."
        ]
    }


def _id_clash(reading_id):
    return {"id": [f"Id {reading_id} is already used by another reading."]}


# --- PostgreSQL: COPY, straight into the table or through a staging table -----------------------------------

STAGING_TABLE = "readings_ingest_staging"
COLUMNS = 'id, data_source_id, "timestamp", "values", created_by_id, created_at'


def _store_with_copy(source, rows, payload, created_by_id):
    """Return (created, existing, conflicts) after inserting the rows that are not stored yet.

    When the source has no reading in the batch's time span (new readings, the usual case) the rows are
    copied straight into the table, the fastest write PostgreSQL has; a clash with a concurrent writer or
    a reused id then undoes that copy and the batch takes the staging path. Otherwise the rows are copied
    into a temporary table and inserted with ON CONFLICT DO NOTHING, and the rows that did not go in are
    compared with what is stored.
    """
    table = Reading._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table}"
            ' WHERE data_source_id = %s AND "timestamp" BETWEEN %s AND %s)',
            [source.pk, min(row[2] for row in rows), max(row[2] for row in rows)],
        )
        if not cursor.fetchone()[0]:
            try:
                with (
                    transaction.atomic(),
                    connection.wrap_database_errors,
                    _keys_checked_once(cursor, source.pk, created_by_id, len(rows)),
                ):
                    _copy(cursor, f"COPY {table} ({COLUMNS}) FROM STDIN (FORMAT BINARY)", payload)
                return len(rows), 0, {}
            except IntegrityError:
                pass

        # Dropped at commit; the DROP first lets one outer transaction ingest two batches. No JIT: it would
        # spend longer compiling these statements than running them.
        cursor.execute(
            f"SET LOCAL jit = off; DROP TABLE IF EXISTS {STAGING_TABLE}; "
            f"CREATE TEMPORARY TABLE {STAGING_TABLE} (LIKE {table}) ON COMMIT DROP"
        )
        _copy(cursor, f"COPY {STAGING_TABLE} ({COLUMNS}) FROM STDIN (FORMAT BINARY)", payload)
        with connection.wrap_database_errors, _keys_checked_once(cursor, source.pk, created_by_id, len(rows)):
            cursor.execute(
                f"INSERT INTO {table} ({COLUMNS})"
                f" SELECT {COLUMNS} FROM {STAGING_TABLE} ON CONFLICT DO NOTHING"
            )
            created = cursor.rowcount
        if created == len(rows):
            return created, 0, {}
        # Stored with equal values is fine; another reading at that time, or one with a client's id,
        # conflicts. Each row is looked up in the indexes (LATERAL ... LIMIT 1), whatever the table's size.
        same_time = (
            f'SELECT r."values" FROM {table} r'
            ' WHERE r.data_source_id = s.data_source_id AND r."timestamp" = s."timestamp" LIMIT 1'
        )
        if any(row[1] is not None for row in rows):
            clash = (
                f"SELECT r.id FROM {table} r WHERE r.id = s.id AND (r.data_source_id <> s.data_source_id"
                ' OR r."timestamp" <> s."timestamp" OR r."values" <> s."values") LIMIT 1'
            )
        else:
            # Ids made here are new: only a client's own id can belong to another reading.
            clash = "SELECT NULL::uuid AS id WHERE false"
        cursor.execute(
            f'SELECT s."timestamp", clash.id IS NOT NULL FROM {STAGING_TABLE} s'
            f" LEFT JOIN LATERAL ({same_time}) same_time ON true"
            f" LEFT JOIN LATERAL ({clash}) clash ON true"
            ' WHERE same_time."values" IS DISTINCT FROM s."values" OR clash.id IS NOT NULL'
        )
        bad = cursor.fetchall()
    if not bad:
        return created, len(rows) - created, {}
    # Timestamps are unique within a cleaned batch, so they find their row.
    at = {row[2]: row for row in rows}
    conflicts = {}
    for timestamp, is_id_clash in bad:
        index, reading_id = at[timestamp][:2]
        conflicts[index] = _id_clash(reading_id) if is_id_clash else _conflict(timestamp)
    return created, len(rows) - created - len(conflicts), dict(sorted(conflicts.items()))


# Below this many rows the three statements of the single check cost more than the per-row checks they save.
KEYS_CHECKED_ONCE_FROM = 500


@contextmanager
def _keys_checked_once(cursor, source_id, created_by_id, row_count):
    """Check the readings' foreign keys once for the whole statement run inside, instead of once per row.

    PostgreSQL checks a foreign key with a trigger per inserted row that looks up and share-locks the
    referenced row, about half of what a COPY of readings costs. Every row of a batch references the same
    source and the same creator, so locking those two rows FOR KEY SHARE once (as each check would) gives the
    same guarantee, and the row triggers are skipped with session_replication_role = replica. That setting
    skips every ordinary trigger, so it is used only while the readings table has none but the foreign
    keys' own, and only where the database role may set it (a superuser, or one granted SET on it);
    elsewhere the rows are checked one by one as usual.
    """
    if row_count < KEYS_CHECKED_ONCE_FROM or not _may_check_keys_once(cursor):
        yield
        return
    cursor.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {DataSource._meta.db_table} WHERE id = %s FOR KEY SHARE) s",
        [source_id],
    )
    locked = cursor.fetchone()[0]
    if created_by_id is not None:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {User._meta.db_table} WHERE id = %s FOR KEY SHARE) u",
            [created_by_id],
        )
        locked += cursor.fetchone()[0] - 1
    if locked != 1:
        # What the per-row check would have said: the source or the creator was deleted meanwhile.
        raise IntegrityError("The data source or the user of these readings no longer exists.")
    cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    # Only on success: after an error the rollback (of the savepoint or the transaction) undoes the SET.
    cursor.execute("SET LOCAL session_replication_role = origin")


# psycopg connection -> whether _keys_checked_once may skip the row triggers on it.
_checks_keys_once = weakref.WeakKeyDictionary()


def _may_check_keys_once(cursor):
    raw = cursor.connection
    allowed = _checks_keys_once.get(raw)
    if allowed is None:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        privileged = cursor.fetchone()[0]
        if not privileged and connection.pg_version >= 150000:
            cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            privileged = cursor.fetchone()[0]
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal)",
            [Reading._meta.db_table],
        )
        allowed = _checks_keys_once[raw] = privileged and cursor.fetchone()[0]
    return allowed


# COPY's binary format: a signature, flags and header extension length, then per row the number of fields and
# each field as its length and bytes (-1 for NULL), then -1 for the end.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_BINARY_TRAILER = struct.pack(">h", -1)
# Times are microseconds since PostgreSQL's epoch; jsonb is a version byte, then the JSON text.
_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_JSONB_VERSION = b"\x01"


def _copy_payload(source, rows, created_by):
    """The rows as COPY binary data, in the order of COLUMNS.

    Binary rather than text: packing a timestamp's microseconds costs less than writing it out in ISO
    8601, and PostgreSQL then parses neither the ids nor the times.
    """
    dumps = orjson.dumps
    new_id = uuid7
    micros_and_length = struct.Struct(">qi").pack
    # The fields count and the id's length; the source id and the timestamp's length; the creator and
    # creation time, the same for every row.
    head = struct.pack(">hi", len(COLUMNS.split(",")), 16)
    source_id = struct.pack(">iqi", 8, source.pk, 8)
    creator = struct.pack(">i", -1) if created_by is None else struct.pack(">iq", 8, created_by.pk)
    tail = creator + struct.pack(">iq", 8, (timezone.now() - _PG_EPOCH) // _MICROSECOND)
    return b"".join(
        [
            _BINARY_HEADER,
            *[
                b"%b%b%b%b%b%b%b"
                % (
                    head,
                    new_id().bytes if reading_id is None else reading_id.bytes,
                    source_id,
                    micros_and_length(instant, len(json) + 1),
                    _JSONB_VERSION,
                    json,
                    tail,
                )
                for _, reading_id, _, values, instant in rows
                for json in (dumps(values),)
            ],
            _BINARY_TRAILER,
        ]
    )


def _copy(cursor, statement, payload):
    with cursor.cursor.copy(statement) as copy:
        copy.write(payload)


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
    client_ids = [row[1] for row in rows if row[1] is not None]
    timestamps = [row[2] for row in rows]
    stored_at = {}
    stored_by_id = {}
    for start in range(0, len(timestamps), LOOKUP_CHUNK):
        stored_at.update(
            Reading.objects.filter(
                data_source=source, timestamp__in=timestamps[start : start + LOOKUP_CHUNK]
            ).values_list("timestamp", "values")
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
    for index, reading_id, timestamp, values, _ in rows:
        by_id = stored_by_id.get(reading_id) if reading_id is not None else None
        if by_id is not None and by_id != (source.pk, timestamp, values):
            conflicts[index] = _id_clash(reading_id)
            continue
        stored_values = stored_at.get(timestamp)
        if stored_values is None:
            new.append(
                Reading(
                    id=reading_id or compat_uuid7(),
                    data_source=source,
                    timestamp=timestamp,
                    values=values,
                    created_by=created_by,
                )
            )
        elif stored_values == values:
            existing += 1
        else:
            conflicts[index] = _conflict(timestamp)
    Reading.objects.bulk_create(new, batch_size=LOOKUP_CHUNK)
    return len(new), existing, conflicts
