"""One place that hears about every change to a source's readings, so that what is derived from them
(cached usage, for one) can be refreshed.

Saving a Reading announces itself through post_save, deleting one through Reading.delete(); a path that
writes many rows at once (bulk_create, COPY, queryset.delete) must call `announce_readings_changed` itself.

There is deliberately no post_delete receiver: any receiver on Reading's delete signals makes Django's
cascade load every reading of a source or household being deleted (millions of rows) just to send them,
instead of one DELETE statement. A deleted source has no usage left to refresh.
"""

from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

# Sent with `source_ids`: the ids of the data sources whose readings changed.
readings_changed = Signal()


def count_readings(source_id, delta):
    """Move the source's `reading_count` by `delta` (negative for deletions), in the caller's transaction.

    An F() update, so concurrent writers of the same source add up instead of overwriting each other.
    """
    from sources.models import DataSource

    if delta:
        DataSource.objects.filter(pk=source_id).update(reading_count=F("reading_count") + delta)


def announce_readings_changed(source_ids):
    """Move these sources' `readings_version` in the caller's transaction, and tell every listener once it
    commits that their readings changed. The version is what keeps cached usage exact: it commits or rolls
    back with the readings, whether or not the cache can be reached."""
    from sources.models import DataSource

    source_ids = frozenset(source_ids)
    if source_ids:
        DataSource.objects.filter(pk__in=source_ids).update(readings_version=F("readings_version") + 1)
        transaction.on_commit(lambda: readings_changed.send(sender=None, source_ids=source_ids))


@receiver(post_save, sender="readings.Reading", dispatch_uid="reading-saved")
def _reading_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        count_readings(instance.data_source_id, 1)
    announce_readings_changed([instance.data_source_id])
