"""PostgreSQL: a batch of readings through COPY, straight into the table or through a staging table."""

import struct
import weakref
from contextlib import contextmanager

import orjson
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from uuid_utils import uuid7

from accounts.models import User
from readings.models import Reading
from readings.services.validation import MICROSECOND, PG_EPOCH, conflict, id_clash
from sources.models import DataSource

STAGING_TABLE = "readings_ingest_staging"
COLUMNS = 'id, data_source_id, "timestamp", "values", created_by_id, created_at'


def store_with_copy(source, rows, payload, created_by_id):
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
        conflicts[index] = id_clash(reading_id) if is_id_clash else conflict(timestamp)
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
_JSONB_VERSION = b"\x01"


def copy_payload(source, rows, created_by):
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
    tail = creator + struct.pack(">iq", 8, (timezone.now() - PG_EPOCH) // MICROSECOND)
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
