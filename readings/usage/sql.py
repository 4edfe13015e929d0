"""The database half of usage: per bucket, a handful of numbers from which Python finishes the job.

For a cumulative metric the database returns, per (series, period, bucket): the first and last reading in
the bucket (four index probes) and the sum of the increases between consecutive readings that both lie in
the bucket (LAG over the bucket's readings). Readings are never sent to Python: what crosses a bucket edge
is the pair (last reading of one bucket, first reading of a later one), at most one per edge, which
`spread.py` divides over the buckets it spans.

The ORM builds every query of readings (the source, the JSON value extraction and `has_key`, which differ
between SQLite and PostgreSQL, the probes' ordering and LIMIT); the raw part is the portable frame around
them: a VALUES table of bucket edges computed in Python, a correlated subquery per bucket, and the LAG and
SUM over a bucket's rows. The ORM cannot join to a table that does not exist, nor aggregate over a window;
why LAG itself is not the ORM's is said where it is written. Correlated per-bucket scans keep each window
on an index range that is already in time order, so no reading is sorted and no row needs a time-zone
conversion. All of it is one query, whatever the number of sources, periods and buckets.
"""

import contextlib
import dataclasses
import datetime as dt

from django.db import connection, transaction
from django.db.models import CharField, DateTimeField, FloatField, IntegerField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.dateparse import parse_datetime

from readings.models import HourlyRollup, Reading
from readings.usage import rollup
from readings.usage.increase import register_increase_sql

UTC = dt.UTC
# Sentinel buckets before the first and after the last edge: only their last/first reading is asked for.
EARLIEST = dt.datetime(1, 1, 2, tzinfo=UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Point:
    at: dt.datetime
    value: float


@dataclasses.dataclass(frozen=True)
class CumulativeBucket:
    first: Point | None
    last: Point | None
    # Sum of max(0, increase) over consecutive readings both inside the bucket.
    inside: float


@dataclasses.dataclass(frozen=True)
class CumulativeStats:
    before: Point | None  # the last reading before the range
    after: Point | None  # the first reading at or after its end
    buckets: list[CumulativeBucket]


@dataclasses.dataclass(frozen=True)
class InstantBucket:
    total: float | None
    minimum: float | None
    maximum: float | None
    count: int


def _metric_value(metric):
    # KeyTextTransform with the name as one key: a metric may contain "__", which a lookup path would split.
    return Cast(KeyTextTransform(metric, "values"), FloatField())


def _ref(column, field):
    return RawSQL(column, (), output_field=field)


def _readings_of(metric, source_column):
    return Reading.objects.order_by().filter(
        data_source_id=_ref(source_column, IntegerField()), values__has_key=metric
    )


def _in_bucket(queryset):
    return queryset.filter(
        timestamp__gte=_ref("bucket.lo", DateTimeField()), timestamp__lt=_ref("bucket.hi", DateTimeField())
    )


def _compile(queryset):
    return queryset.query.get_compiler(connection=connection).as_sql()


def _adapt(moment):
    return connection.ops.adapt_datetimefield_value(moment)


def _to_datetime(value):
    # PostgreSQL returns aware datetimes; SQLite naive UTC ones, or text when it lost the column's type.
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@contextlib.contextmanager
def _cursor():
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner cannot know how many readings each bucket holds and guesses thousands; the cost
            # it then expects sends the query through JIT compilation, which takes far longer (seconds)
            # than running it. SET LOCAL ends with this transaction.
            cursor.execute("SET LOCAL jit = off")
        yield cursor


# PostgreSQL types of the columns of the tables made here, for unnest().
COLUMN_TYPES = {
    "group_no": "int",
    "series_no": "int",
    "source_id": "bigint",
    "metric_no": "int",
    "metric": "text",
    "period_no": "int",
    "bucket_no": "int",
    "lo": "timestamptz",
    "hi": "timestamptz",
    "is_real": "int",
}


def _values_table(name, columns, rows):
    if connection.vendor == "postgresql":
        # One array per column rather than a parameter per value: psycopg adapts the values of a year of
        # days faster as arrays, which took a third of the time of the whole query as separate parameters.
        arrays = ", ".join(f"%s::{COLUMN_TYPES[column]}[]" for column in columns)
        params = [list(column) for column in zip(*rows, strict=True)]
        return f"{name} AS (SELECT * FROM unnest({arrays}) AS {name}({', '.join(columns)}))", params
    placeholders = ", ".join("(" + ", ".join(["%s"] * len(columns)) + ")" for _ in rows)
    params = [value for row in rows for value in row]
    return f"{name} ({', '.join(columns)}) AS (VALUES {placeholders})", params


# A reading's increase over the one before it; across two hours of rollups, the first reading of the later
# hour over the last of the earlier one.
PAIR_INCREASE = register_increase_sql('pair."previous"', 'pair."value"')
HOUR_PAIR_INCREASE = register_increase_sql('pair."previous"', 'pair."first_value"')


def _cumulative_branch(metric, metric_no):
    """SELECT for every series of one metric name: probes and the inside sum, per bucket."""
    readings = _in_bucket(_readings_of(metric, "series.source_id"))
    value = _metric_value(metric)
    # First reading's time and value, then the last one's: each an index probe.
    probes = [
        _compile(readings.annotate(value=value).order_by(order).values(column)[:1])
        for order in ("timestamp", "-timestamp")
        for column in ("timestamp", "value")
    ]
    # The window runs over the bucket's (timestamp, value) rows kept as such. The ORM's own
    # Window(Lag(value)) would be one query in which PostgreSQL extracts the value from the JSON again for
    # the row Lag looks back at (Lag of the whole `values` column, extracted afterwards, likewise): 25-30%
    # more database CPU on a year of 1-minute readings (bench/usage.py), which is the whole cost here.
    bucket_sql, bucket_params = _compile(readings.annotate(value=value).values("timestamp", "value"))
    inside = (
        f"WITH reading AS MATERIALIZED ({bucket_sql}) "
        f"SELECT SUM({PAIR_INCREASE}) "
        'FROM (SELECT reading."value", LAG(reading."value") OVER (ORDER BY reading."timestamp") '
        'AS "previous" FROM reading) pair'
    )
    columns = ", ".join(f"({sql})" for sql, _ in probes)
    sql = (
        f"SELECT series.group_no, series.series_no, bucket.period_no, bucket.bucket_no, {columns}, "
        f"CASE WHEN bucket.is_real = 1 THEN ({inside}) END "
        "FROM series JOIN bucket ON bucket.group_no = series.group_no"
        f" WHERE series.metric_no = {int(metric_no)}"
    )
    params = [p for _, probe_params in probes for p in probe_params] + list(bucket_params)
    return sql, params


def _rollups_in_bucket():
    return HourlyRollup.objects.order_by().filter(
        data_source_id=_ref("series.source_id", IntegerField()),
        metric=_ref("series.metric", CharField()),
        hour__gte=_ref("bucket.lo", DateTimeField()),
        hour__lt=_ref("bucket.hi", DateTimeField()),
    )


def _cumulative_from_rollups():
    """SELECT for every series at once from the hourly rollups: the same numbers as `_cumulative_branch`.

    A bucket's first and last reading are its first hour's first and its last hour's last; the increases
    inside it are those inside each of its hours plus, between consecutive hours that have readings, the
    pair (last of one, first of the next), clamped as every pair is.
    """
    hours = _rollups_in_bucket()
    probes = [
        _compile(hours.order_by(order).values(column)[:1])
        for order, columns in (("hour", ("first_at", "first_value")), ("-hour", ("last_at", "last_value")))
        for column in columns
    ]
    hours_sql, hours_params = _compile(hours.values("hour", "increase", "first_value", "last_value"))
    inside = (
        f'SELECT SUM(pair."increase" + {HOUR_PAIR_INCREASE}) '
        'FROM (SELECT rollup."increase", rollup."first_value", '
        'LAG(rollup."last_value") OVER (ORDER BY rollup."hour") AS "previous" '
        f"FROM ({hours_sql}) rollup) pair"
    )
    columns = ", ".join(f"({sql})" for sql, _ in probes)
    sql = (
        f"SELECT series.group_no, series.series_no, bucket.period_no, bucket.bucket_no, {columns}, "
        f"CASE WHEN bucket.is_real = 1 THEN ({inside}) END "
        "FROM series JOIN bucket ON bucket.group_no = series.group_no"
    )
    params = [p for _, probe_params in probes for p in probe_params] + list(hours_params)
    return sql, params


def cumulative_stats(series, periods):
    """Per (series index, period index): CumulativeStats, in one query.

    `series` is a list of (source_id, metric); `periods` a list of edge lists as made by
    `calendar.bucket_edges`. Read from the hourly rollups when every edge is a whole UTC hour, else from the
    readings; both give the same numbers.
    """
    return cumulative_stats_of_groups([(series, periods)])[0]


def cumulative_stats_of_groups(groups):
    """`cumulative_stats` for several (series, periods) groups at once (households, each with its own time
    zone and so its own edges): one result per group, in one query whatever the number of groups. From the
    rollups only when every group's edges are whole UTC hours: one household in a half-hour zone sends them
    all to the readings, which give the same numbers, rather than adding a second query."""
    numbers = [no for no, (series, _) in enumerate(groups) if series]
    results = [{} for _ in groups]
    if numbers:
        from_rollups = all(rollup.covers(edges) for no in numbers for edges in groups[no][1])
        found = _cumulative_query([groups[no] for no in numbers], from_rollups)
        for no, result in zip(numbers, found, strict=True):
            results[no] = result
    return results


def _cumulative_query(groups, from_rollups):
    metrics = sorted({metric for series, _ in groups for _, metric in series})
    series_rows = []
    bucket_rows = []
    for group_no, (series, periods) in enumerate(groups):
        series_rows.extend(
            (group_no, no, source_id, metrics.index(metric), metric)
            for no, (source_id, metric) in enumerate(series)
        )
        for period_no, edges in enumerate(periods):
            last = len(edges) - 1
            bucket_rows.append((group_no, period_no, -1, _adapt(EARLIEST), _adapt(edges[0]), 0))
            for no in range(last):
                bucket_rows.append((group_no, period_no, no, _adapt(edges[no]), _adapt(edges[no + 1]), 1))
            bucket_rows.append((group_no, period_no, last, _adapt(edges[-1]), _adapt(LATEST), 0))
    series_sql, series_params = _values_table(
        "series", ["group_no", "series_no", "source_id", "metric_no", "metric"], series_rows
    )
    bucket_sql, bucket_params = _values_table(
        "bucket", ["group_no", "period_no", "bucket_no", "lo", "hi", "is_real"], bucket_rows
    )
    if from_rollups:
        branches = [_cumulative_from_rollups()]
    else:
        branches = [_cumulative_branch(metric, no) for no, metric in enumerate(metrics)]
    sql = f"WITH {series_sql}, {bucket_sql} " + " UNION ALL ".join(branch for branch, _ in branches)
    params = series_params + bucket_params + [p for _, branch_params in branches for p in branch_params]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    found = {}
    for group_no, series_no, period_no, bucket_no, first_at, first_value, last_at, last_value, inside in rows:
        first = Point(_to_datetime(first_at), float(first_value)) if first_at is not None else None
        last = Point(_to_datetime(last_at), float(last_value)) if last_at is not None else None
        found[group_no, series_no, period_no, bucket_no] = CumulativeBucket(first, last, float(inside or 0))
    results = []
    for group_no, (series, periods) in enumerate(groups):
        result = {}
        for series_no in range(len(series)):
            for period_no, edges in enumerate(periods):
                count = len(edges) - 1
                at = (group_no, series_no, period_no)
                result[series_no, period_no] = CumulativeStats(
                    before=found[(*at, -1)].last,
                    after=found[(*at, count)].first,
                    buckets=[found[(*at, no)] for no in range(count)],
                )
        results.append(result)
    return results


def instantaneous_stats(source_id, metric, edges):
    """Per bucket of `edges`: sum, minimum, maximum and count of the metric's readings, in one query (from
    the hourly rollups when every edge is a whole UTC hour)."""
    bucket_rows = [(no, _adapt(edges[no]), _adapt(edges[no + 1])) for no in range(len(edges) - 1)]
    bucket_sql, bucket_params = _values_table("bucket", ["bucket_no", "lo", "hi"], bucket_rows)
    if rollup.covers(edges):
        rows_sql, rows_params = _compile(
            HourlyRollup.objects.order_by()
            .filter(data_source_id=source_id, metric=metric)
            .values("hour", "total", "minimum", "maximum", "count")
        )
        sql = (
            f'WITH {bucket_sql} SELECT bucket.bucket_no, SUM(rollup."total"), MIN(rollup."minimum"), '
            f'MAX(rollup."maximum"), SUM(rollup."count") FROM bucket JOIN ({rows_sql}) rollup '
            'ON rollup."hour" >= bucket.lo AND rollup."hour" < bucket.hi GROUP BY bucket.bucket_no'
        )
    else:
        rows_sql, rows_params = _compile(
            Reading.objects.order_by()
            .filter(data_source_id=source_id, values__has_key=metric)
            .annotate(value=_metric_value(metric))
            .values("timestamp", "value")
        )
        sql = (
            f'WITH {bucket_sql} SELECT bucket.bucket_no, SUM(reading."value"), MIN(reading."value"), '
            f'MAX(reading."value"), COUNT(*) FROM bucket JOIN ({rows_sql}) reading '
            'ON reading."timestamp" >= bucket.lo AND reading."timestamp" < bucket.hi '
            "GROUP BY bucket.bucket_no"
        )
    with _cursor() as cursor:
        cursor.execute(sql, bucket_params + list(rows_params))
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    empty = (None, None, None, 0)
    return [
        InstantBucket(
            *(None if x is None else float(x) for x in rows.get(no, empty)[:3]), rows.get(no, empty)[3]
        )
        for no in range(len(edges) - 1)
    ]
