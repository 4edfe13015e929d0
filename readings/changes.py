"""One place that hears about every change to a source's readings, so that what is derived from them
(cached usage, for one) can be refreshed.

Saving or deleting a Reading announces itself through Django's model signals; a path that writes many rows
at once (bulk_create, COPY, queryset.delete) must call `announce_readings_changed` itself.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

# Sent with `source_ids`: the ids of the data sources whose readings changed.
readings_changed = Signal()


def announce_readings_changed(source_ids):
    """Tell every listener, once the surrounding transaction commits, that these sources' readings changed."""
    source_ids = frozenset(source_ids)
    if source_ids:
        transaction.on_commit(lambda: readings_changed.send(sender=None, source_ids=source_ids))


@receiver([post_save, post_delete], sender="readings.Reading", dispatch_uid="reading-saved-or-deleted")
def _reading_saved_or_deleted(sender, instance, **kwargs):
    announce_readings_changed([instance.data_source_id])
