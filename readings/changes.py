"""What every write of readings does to its sources besides the rows: the lock that orders it against the
source's deletion, the source's `reading_count` and `readings_version`, and the announcement once it commits.

Only readings.services writes readings, and it calls these in its own transaction. The one other writer is
a source's (or household's) deletion, whose cascade deletes the readings with their source; the receiver
below makes it wait for the writers that got to the source first, so that it deletes their readings too.
"""

from django.db import connection, transaction
from django.db.models import Case, F, When
from django.db.models.signals import pre_delete
from django.dispatch import Signal, receiver

from sources.models import DataSource

# Sent with `source_ids`: the ids of the data sources whose readings changed, once the change committed.
readings_changed = Signal()


class SourceGone(Exception):
    """The source was deleted while its readings were being written: nothing was stored."""

    def __init__(self, source_id):
        super().__init__(f"Source {source_id} was deleted meanwhile.")
        self.source_id = source_id


def lock_sources(source_ids):
    """Take the sources' rows FOR KEY SHARE (PostgreSQL) before writing their readings; SourceGone if one of
    them no longer exists. Writers do not wait for each other here, only a deletion of the source does (it
    locks the row FOR UPDATE first): it waits until this transaction ends and then deletes what it wrote, or
    it went first and this finds the row gone, where a writer without the lock would fail at commit."""
    source_ids = sorted(set(source_ids))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {DataSource._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",
                [source_ids],
            )
            found = {pk for (pk,) in cursor.fetchall()}
    else:
        found = set(DataSource.objects.filter(pk__in=source_ids).values_list("pk", flat=True))
    missing = set(source_ids) - found
    if missing:
        raise SourceGone(min(missing))


ONE_SOURCE_WRITTEN = (
    f"UPDATE {DataSource._meta.db_table} SET readings_version = readings_version + 1,"
    " reading_count = reading_count + %s WHERE id = %s"
)


def readings_written(deltas):
    """After a write of readings, in its transaction: move each source's `reading_count` by its delta in
    `deltas` ({source id: delta}, negative for deletions, 0 for a change) and its `readings_version` by one,
    in one UPDATE, and announce the change once it commits. SourceGone if a source no longer exists.

    The UPDATE also locks the rows (FOR NO KEY UPDATE): writers of one source take turns from here to their
    commit, so that each refreshes its rollups after the previous one committed. F() expressions, so that
    concurrent writers add up instead of overwriting each other. The version is what keeps cached usage
    exact (readings/usage/cache.py): it commits or rolls back with the readings, whether or not the cache
    can be reached.
    """
    source_ids = sorted(deltas)
    if not source_ids:
        return
    if len(source_ids) == 1:
        # The path of every single reading: the statement written out, cheaper than building it.
        with connection.cursor() as cursor:
            cursor.execute(ONE_SOURCE_WRITTEN, [deltas[source_ids[0]], source_ids[0]])
            if cursor.rowcount != 1:
                raise SourceGone(source_ids[0])
        _announce(source_ids)
        return
    counts = {pk: delta for pk, delta in deltas.items() if delta}
    change = {"readings_version": F("readings_version") + 1}
    if counts:
        change["reading_count"] = F("reading_count") + Case(
            *[When(pk=pk, then=delta) for pk, delta in sorted(counts.items())], default=0
        )
    updated = DataSource.objects.filter(pk__in=source_ids).update(**change)
    if updated != len(source_ids):
        found = set(DataSource.objects.filter(pk__in=source_ids).values_list("pk", flat=True))
        raise SourceGone(min(set(source_ids) - found))
    _announce(source_ids)


def announce_readings_changed(source_ids):
    """For writers past the services (a raw COPY, `bulk_create` of demo data) that recounted the sources
    themselves: move the versions of those of the sources that exist, and announce, as the services do."""
    source_ids = sorted(set(source_ids))
    if source_ids:
        DataSource.objects.filter(pk__in=source_ids).update(readings_version=F("readings_version") + 1)
        _announce(source_ids)


def _announce(source_ids):
    announced = frozenset(source_ids)
    transaction.on_commit(lambda: readings_changed.send(sender=None, source_ids=announced))


@receiver(pre_delete, sender=DataSource, dispatch_uid="source-deleted-after-its-writers")
def _source_locked_before_its_readings_go(sender, instance, **kwargs):
    # Sent inside the deletion's transaction, before the cascade deletes the readings: the writers that hold
    # the row (lock_sources) commit first, and their readings are deleted with the others.
    if connection.vendor == "postgresql":
        DataSource.objects.select_for_update().filter(pk=instance.pk).values_list("pk").first()
