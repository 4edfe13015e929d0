"""Many readings deleted or moved to another source at once: the admin's bulk action, and whatever selects
readings by a queryset.

The sources' rows are locked first (FOR NO KEY UPDATE, as every counting writer does), so that the readings
counted, deleted and refreshed are the same rows: no other writer of those sources commits in between.
"""

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet

from readings.changes import readings_written
from readings.models import Reading
from readings.services.errors import ReadingsClash
from readings.usage import rollup
from sources.models import DataSource

# Below SQLite's limit on the parameters of one statement.
ID_CHUNK = 500


def delete_readings(readings):
    """Delete the readings of the queryset `readings`; return how many were deleted."""
    with transaction.atomic():
        counts = _locked_counts(readings)
        if not counts:
            return 0
        hours = rollup.touched_hours(readings)
        deleted = readings.order_by()._raw_delete(readings.db)
        readings_written({source_id: -count for source_id, count in counts.items()})
        rollup.refresh_hours_of(hours, locked=True)
    return deleted


def move_readings(readings, to_source):
    """Move the readings of the queryset `readings` to the source `to_source`; return how many moved.
    ReadingsClash (nothing moved) when `to_source` has a reading at the time of one of them."""
    with transaction.atomic():
        counts = _locked_counts(readings, also=[to_source.pk])
        moving = {source_id: count for source_id, count in counts.items() if source_id != to_source.pk}
        if not moving:
            return 0
        readings = readings.exclude(data_source_id=to_source.pk)
        hours = rollup.touched_hours(readings)
        # Found by their ids once moved: the queryset's filter may no longer select them.
        ids = list(readings.values_list("pk", flat=True))
        try:
            with transaction.atomic():
                for start in range(0, len(ids), ID_CHUNK):
                    chunk = Reading.objects.filter(pk__in=ids[start : start + ID_CHUNK])
                    QuerySet.update(chunk, data_source_id=to_source.pk)
        except IntegrityError as exc:
            raise ReadingsClash(
                f"Source {to_source.pk} already has a reading at the time of one of these."
            ) from exc
        for start in range(0, len(ids), ID_CHUNK):
            chunk = Reading.objects.filter(pk__in=ids[start : start + ID_CHUNK])
            for source_id, source_hours in rollup.touched_hours(chunk).items():
                hours.setdefault(source_id, set()).update(source_hours)
        moved = sum(moving.values())
        readings_written({**{pk: -count for pk, count in moving.items()}, to_source.pk: moved})
        rollup.refresh_hours_of(hours, locked=True)
    return moved


def _locked_counts(readings, also=()):
    """{source id: number of the readings} of the queryset, after locking those sources' rows (and those of
    `also`) until the transaction ends."""
    source_ids = set(readings.order_by().values_list("data_source_id", flat=True).distinct()) | set(also)
    if connection.vendor == "postgresql" and source_ids:
        list(
            DataSource.objects.filter(pk__in=source_ids)
            .order_by("pk")
            .select_for_update(no_key=True)
            .values_list("pk")
        )
    return dict(readings.order_by().values_list("data_source_id").annotate(count=Count("pk")))
