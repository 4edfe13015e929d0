"""Every write of readings goes through this package, and each function here does in its own transaction
all that the write entails: the rows, the source's `reading_count` and `readings_version` (which keeps cached
usage exact), the hourly rollups of the hours it touched, and the announcement once it commits.

* one reading: `create_reading`, `update_reading`, `delete_reading` (single.py);
* a batch, validated item by item, idempotent, atomic or partial: `ingest_readings`, or `prepare_readings`
  then `store_readings` (batch.py, with validation.py, and copy.py on PostgreSQL or portable.py elsewhere);
* many at once by a queryset: `delete_readings`, `move_readings` (many.py).

The model and its queryset refuse the writes that would skip this (Reading.save(), .delete(), and
ReadingQuerySet.delete() or an .update() of the timestamp, values or source), naming the function to call.
"""

from readings.services.batch import (
    IngestResult,
    PreparedBatch,
    ingest_readings,
    prepare_readings,
    store_readings,
)
from readings.services.copy import KEYS_CHECKED_ONCE_FROM
from readings.services.errors import ReadingGone, ReadingsClash, SourceGone
from readings.services.many import delete_readings, move_readings
from readings.services.single import create_reading, delete_reading, update_reading
from readings.services.validation import NON_FIELD, InvalidItem

__all__ = [
    "KEYS_CHECKED_ONCE_FROM",
    "NON_FIELD",
    "IngestResult",
    "InvalidItem",
    "PreparedBatch",
    "ReadingGone",
    "ReadingsClash",
    "SourceGone",
    "create_reading",
    "delete_reading",
    "delete_readings",
    "ingest_readings",
    "move_readings",
    "prepare_readings",
    "store_readings",
    "update_reading",
]
