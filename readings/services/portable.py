"""Any database but PostgreSQL: a batch of readings compared with what is stored, then bulk_create."""

from django.db import IntegrityError, transaction
from uuid_utils.compat import uuid7

from readings.models import Reading
from readings.services.validation import conflict, id_clash

LOOKUP_CHUNK = 500


def store_with_bulk_create(source, rows, created_by):
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
            conflicts[index] = id_clash(reading_id)
            continue
        stored_values = stored_at.get(timestamp)
        if stored_values is None:
            new.append(
                Reading(
                    id=reading_id or uuid7(),
                    data_source=source,
                    timestamp=timestamp,
                    values=values,
                    created_by=created_by,
                )
            )
        elif stored_values == values:
            existing += 1
        else:
            conflicts[index] = conflict(timestamp)
    Reading.objects.bulk_create(new, batch_size=LOOKUP_CHUNK)
    return len(new), existing, conflicts
