"""Hourly rollups of readings (readings.models.HourlyRollup), kept exact by every writer of readings.

A rollup row sums up the readings of one metric of a source within one UTC hour: its first and last reading,
the clamped increases between consecutive readings inside it, and sum/count/min/max. Usage over buckets whose
edges are whole UTC hours can then be computed from the rollups alone (readings/usage/sql.py): the pair of
readings that crosses from one hour into the next is (last of the earlier hour, first of the later one).

A row depends on the readings of its own hour only, so a change to readings is made good by computing again
the hours it touched, from the readings, in set-based SQL: `refresh()` deletes the rows of the touched
(source, metric, hour range)s and inserts them afresh in two statements, whatever the number of readings.
Writers call it inside their own transaction, after their change, so that the rollup is right at commit:

* `store_readings` (bulk API, CSV import, the import page) through `refresh_batch()`, which on PostgreSQL
  computes the hours that had no rollup from the batch in memory and copies them in (the same doubles);
* the services for one reading (readings/services/single.py) through `refresh_positions()`, with the
  reading's stored hour as well as its new one, so that a reading moved to another hour (or source) leaves
  the old one right too;
* the services for many readings (readings/services/many.py) through `refresh_hours_of()`.

Deleting a source deletes its rollups with it (the foreign key cascades, without loading them). A change to
a source's metrics needs nothing: rows exist for whatever metrics the readings carry, with the numbers of
both kinds. `rebuild()` computes every row from scratch, for a migration, `manage.py rebuild_usage_rollups`,
and writers that bypass the services (`bulk_create`, a raw COPY).

Concurrent writers of one source take turns: `refresh()` first locks the source's row (FOR NO KEY UPDATE, as
the reading counter's UPDATE does), so that each refresh starts after the previous writer committed and sees
its readings. SQLite lets one writer in at a time anyway.
"""

import bisect
import datetime as dt
import functools
import json
import operator

from django.db import connection, transaction
from django.db.models.functions import TruncHour

from readings.models import HourlyRollup
from readings.usage.increase import register_increases
from readings.usage.rollup_sql import (
    COLUMNS,
    COPY_TYPES,
    POSTGRESQL_APPEND,
    POSTGRESQL_DELETE,
    POSTGRESQL_INSERT,
    POSTGRESQL_TARGETS,
    READING,
    ROLLUP,
    SOURCE,
    SQLITE_DELETE,
    SQLITE_INSERT,
)
from sources.models import DataSource

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
# Bounds that contain every storable reading (1900-2199), both on whole hours.
EARLIEST = dt.datetime(1, 1, 2, tzinfo=UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=UTC)


def floor_hour(moment):
    """The first instant of the UTC hour that contains the aware datetime `moment`."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def covers(edges):
    """Whether buckets with these edges (aware datetimes) are unions of whole UTC hours, so that usage may
    read them from the rollups. Not where a time zone's offset is not a whole hour (Asia/Kolkata, or
    Europe/Berlin before 1893), nor for a range that starts or ends within an hour."""
    return all(edge.minute == 0 and edge.second == 0 and edge.microsecond == 0 for edge in edges)


def _runs(hours):
    """[(lo, hi), ...]: the sorted hour starts `hours` merged into ranges of consecutive hours."""
    runs = []
    for hour in sorted(set(hours)):
        if runs and runs[-1][1] == hour:
            runs[-1][1] = hour + HOUR
        else:
            runs.append([hour, hour + HOUR])
    return [tuple(run) for run in runs]


def _parameters(targets):
    if connection.vendor == "postgresql":
        return [list(column) for column in zip(*targets, strict=True)]
    adapt = connection.ops.adapt_datetimefield_value
    return [json.dumps([[source_id, metric, adapt(lo), adapt(hi)] for source_id, metric, lo, hi in targets])]


def _lock(cursor, source_ids):
    if connection.vendor == "postgresql":
        cursor.execute(
            f"SELECT id FROM {SOURCE} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [sorted(source_ids)]
        )


def refresh(targets, *, locked=False):
    """Compute again, from the readings, the rollups of `targets`: (source id, metric, lo, hi) with lo and hi
    on whole UTC hours, the ranges of one source and metric not overlapping. In the caller's transaction;
    `locked` when it holds the sources' rows already (readings.changes.readings_written)."""
    targets = list(targets)
    if not targets:
        return
    postgresql = connection.vendor == "postgresql"
    parameters = _parameters(targets)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if not locked:
            _lock(cursor, {target[0] for target in targets})
        cursor.execute(POSTGRESQL_DELETE if postgresql else SQLITE_DELETE, parameters)
        cursor.execute(POSTGRESQL_INSERT if postgresql else SQLITE_INSERT, parameters)


def _batch_runs(timestamps):
    """The hour ranges of a batch: one from its first hour to its last when it is dense, else hour by hour,
    so that the readings stored between readings far apart are not computed again."""
    first, last = floor_hour(min(timestamps)), floor_hour(max(timestamps))
    if (last - first) // HOUR < len(timestamps):
        return [(first, last + HOUR)]
    return _runs(floor_hour(moment) for moment in timestamps)


def refresh_batch(source, rows, created, hourly=None):
    """After `store_readings` stored `created` of the batch's `rows` ((index, id, timestamp, values, ...)
    tuples, as services.py lays them out) for `source`: make the rollups of the hours they fall in right,
    for every metric of the source (a superset of the metrics a batch can carry).

    On PostgreSQL, when every row was new, the hours that had no rollup before are computed here from the
    batch itself, which is at hand, and copied in: reading the rows back and taking their values out of the
    JSON cost a fifth of the batch's whole store time, this a few per cent (bench/rollup_cost.py). The hours
    that had a rollup (where the batch continues an hour, or fills gaps between stored readings), and every
    hour of a batch of which some rows were stored already, are computed again from the readings.
    `hourly` is `hourly_rollups(rows, source.metric_names)` when the caller computed it ahead.
    """
    if not rows:
        return
    metrics = source.metric_names
    if connection.vendor != "postgresql" or created < len(rows):
        runs = _batch_runs([row[2] for row in rows])
        refresh((source.pk, metric, lo, hi) for metric in metrics for lo, hi in runs)
        return
    if hourly is None:
        hourly = hourly_rollups(rows, metrics)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _lock(cursor, [source.pk])
        hours = {}
        for metric, hour in hourly:
            hours.setdefault(metric, set()).add(hour)
        targets = [(source.pk, metric, lo, hi) for metric in sorted(hours) for lo, hi in _runs(hours[metric])]
        cursor.execute(
            f"SELECT h.metric, h.hour FROM {ROLLUP} h JOIN {POSTGRESQL_TARGETS} ON h.data_source_id = "
            "target.source_id AND h.metric = target.metric AND h.hour >= target.lo AND h.hour < target.hi",
            _parameters(targets),
        )
        known = set(cursor.fetchall())
        if known:
            refresh((source.pk, metric, hour, hour + HOUR) for metric, hour in sorted(known))
        # Binary: a third of the time of text for these timestamps and doubles.
        with cursor.cursor.copy(f"COPY {ROLLUP} ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(COPY_TYPES)
            for (metric, hour), numbers in hourly.items():
                if (metric, hour) not in known:
                    copy.write_row((source.pk, metric, hour, *numbers))


def hourly_rollups(rows, metrics):
    """{(metric, hour): (first_at, first_value, last_at, last_value, increase, total, count, min, max)} of
    readings `rows`, with exactly the doubles that the SQL above makes of them: the values as floats, the
    sums added one by one in time order (not sum(), which may compensate). Every step runs in C (map,
    compress, reduce): this is on the path of every batch."""
    timestamps = [row[2] for row in rows]
    if not all(map(operator.le, timestamps, timestamps[1:])):
        rows = sorted(rows, key=operator.itemgetter(2))
        timestamps = [row[2] for row in rows]
    values = [row[3] for row in rows]
    add = operator.add
    hourly = {}
    start, count = 0, len(rows)
    while start < count:
        hour = floor_hour(timestamps[start])
        end = bisect.bisect_left(timestamps, hour + HOUR, start)
        for metric in metrics:
            chunk = values[start:end]
            try:
                numbers = list(map(float, map(operator.itemgetter(metric), chunk)))
                first_at, last_at = timestamps[start], timestamps[end - 1]
            except KeyError:
                # Some readings of the hour lack the metric: only those that have it count.
                at = [timestamps[start + n] for n, value in enumerate(chunk) if metric in value]
                if not at:
                    continue
                numbers = [float(value[metric]) for value in chunk if metric in value]
                first_at, last_at = at[0], at[-1]
            increase = functools.reduce(add, register_increases(numbers), 0.0)
            hourly[metric, hour] = (
                first_at,
                numbers[0],
                last_at,
                numbers[-1],
                increase,
                functools.reduce(add, numbers),
                len(numbers),
                min(numbers),
                max(numbers),
            )
        start = end
    return hourly


def refresh_positions(positions, *, locked=False):
    """After single readings changed: `positions` are (source id, timestamp, metric names) of each reading
    before and after the change."""
    hours = {}
    for source_id, moment, metrics in positions:
        for metric in metrics:
            hours.setdefault((source_id, metric), set()).add(floor_hour(moment))
    refresh(
        [
            (source_id, metric, lo, hi)
            for (source_id, metric), source_hours in sorted(hours.items())
            for lo, hi in _runs(source_hours)
        ],
        locked=locked,
    )


def refresh_inserted(source_id, moment, values, *, locked=False):
    """After one reading was inserted: its hour's rollups of the metrics it has, appended to where it comes
    last in its hour (PostgreSQL), else computed again."""
    metrics = sorted(values)
    if connection.vendor == "postgresql" and metrics:
        hour = floor_hour(moment)
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            if not locked:
                _lock(cursor, [source_id])
            cursor.execute(
                POSTGRESQL_APPEND,
                [source_id, hour, moment, moment, metrics, [float(values[metric]) for metric in metrics]],
            )
            appended = {metric for (metric,) in cursor.fetchall()}
        metrics = [metric for metric in metrics if metric not in appended]
    if metrics:
        refresh_positions([(source_id, moment, metrics)], locked=locked)


def touched_hours(readings):
    """{source id: {hour, ...}} of the readings of the queryset `readings`: one query, one row per hour."""
    pairs = (
        readings.order_by()
        .annotate(rollup_hour=TruncHour("timestamp", tzinfo=UTC))
        .values_list("data_source_id", "rollup_hour")
        .distinct()
    )
    hours = {}
    for source_id, hour in pairs:
        hours.setdefault(source_id, set()).add(hour)
    return hours


def refresh_hours_of(hours, *, locked=False):
    """Refresh the hours `{source id: {hour, ...}}` (from `touched_hours`) for every metric that has a rollup
    of the source, or that the source has now: whatever the readings of those hours carried or carry."""
    if not hours:
        return
    metrics = {source_id: set() for source_id in hours}
    for source_id, names in DataSource.objects.filter(pk__in=list(hours)).values_list("pk", "metrics"):
        metrics[source_id].update(names)
    rows = (
        HourlyRollup.objects.filter(data_source_id__in=list(hours))
        .order_by()
        .values_list("data_source_id", "metric")
        .distinct()
    )
    for source_id, metric in rows:
        metrics[source_id].add(metric)
    refresh(
        [
            (source_id, metric, lo, hi)
            for source_id, source_hours in sorted(hours.items())
            for lo, hi in _runs(source_hours)
            for metric in sorted(metrics[source_id])
        ],
        locked=locked,
    )


def _metrics_in_readings(source_ids):
    """{source id: {metric, ...}}: the metric names that readings of the sources (all when None) carry."""
    if connection.vendor == "postgresql":
        sql = f'SELECT DISTINCT data_source_id, jsonb_object_keys("values") FROM {READING}'
        where, parameter = " WHERE data_source_id = ANY(%s)", source_ids
    else:
        sql = f'SELECT DISTINCT r.data_source_id, j.key FROM {READING} r, json_each(r."values") j'
        where = " WHERE r.data_source_id IN (SELECT value FROM json_each(%s))"
        parameter = json.dumps(source_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql if source_ids is None else sql + where, [] if source_ids is None else [parameter])
        found = {}
        for source_id, metric in cursor.fetchall():
            found.setdefault(source_id, set()).add(metric)
    return found


def rebuild(source_ids=None):
    """Delete the rollups of the sources `source_ids` (every source when None) and compute them afresh from
    their readings, in one transaction."""
    with transaction.atomic():
        rollups = HourlyRollup.objects.all()
        if source_ids is not None:
            source_ids = sorted(set(source_ids))
            rollups = rollups.filter(data_source_id__in=source_ids)
        rollups._raw_delete(rollups.db)
        metrics = _metrics_in_readings(source_ids)
        refresh(
            (source_id, metric, EARLIEST, LATEST)
            for source_id, names in sorted(metrics.items())
            for metric in sorted(names)
        )
