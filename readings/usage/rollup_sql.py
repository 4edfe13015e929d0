"""The SQL of the hourly rollups (readings/usage/rollup.py): computing an hour from its readings, on
PostgreSQL and on SQLite, and appending one reading to its hour."""

from readings.models import HourlyRollup, Reading
from readings.usage.increase import register_increase_sql
from sources.models import DataSource

ROLLUP = HourlyRollup._meta.db_table
READING = Reading._meta.db_table
SOURCE = DataSource._meta.db_table
COLUMNS = (
    "data_source_id, metric, hour, first_at, first_value, last_at, last_value, increase, total, count,"
    " minimum, maximum"
)

# The aggregate of one (source, metric, hour) from its readings in time order: `previous` is the value of the
# reading before, `is_first` / `is_last` mark the hour's ends, and a pair counts only inside one hour (the
# pair across an hour's edge is the usage query's to spread). The increase is the expression of the usage
# query over readings, so both add the same numbers.
AGGREGATES = f"""
    MIN(at), MAX(CASE WHEN is_first THEN value END), MAX(at), MAX(CASE WHEN is_last THEN value END),
    SUM(CASE WHEN is_first THEN 0 ELSE {register_increase_sql("previous", "value")} END {{order}}),
    SUM(value {{order}}), COUNT(*), MIN(value), MAX(value)
"""

# PostgreSQL: per target, the readings of one metric in time order; `-> metric` casts the JSON number
# straight to float8 (the same double as ->> and a cast of the text, without making the text). The sums add
# in time order (ORDER BY in the aggregate: the grouping may sort rows of one hour in any order), so that they
# are the same doubles whichever way the hour was computed, here or by `hourly_rollups` in Python.
POSTGRESQL_TARGETS = (
    "unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
    " AS target(source_id, metric, lo, hi)"
)
POSTGRESQL_INSERT = f"""
INSERT INTO {ROLLUP} ({COLUMNS})
SELECT target.source_id, target.metric, hourly.*
FROM {POSTGRESQL_TARGETS}
CROSS JOIN LATERAL (
    SELECT hour AT TIME ZONE 'UTC', {AGGREGATES.format(order="ORDER BY at")}
    FROM (
        SELECT at, value, hour, LAG(value) OVER w AS previous,
               LAG(hour) OVER w IS DISTINCT FROM hour AS is_first,
               LEAD(hour) OVER w IS DISTINCT FROM hour AS is_last
        FROM (
            SELECT r."timestamp" AS at, (r."values" -> target.metric)::float8 AS value,
                   date_trunc('hour', r."timestamp" AT TIME ZONE 'UTC') AS hour
            FROM {READING} r
            WHERE r.data_source_id = target.source_id AND r."timestamp" >= target.lo
              AND r."timestamp" < target.hi AND r."values" ? target.metric
            ORDER BY r."timestamp"
        ) reading
        WINDOW w AS (ORDER BY at)
    ) pair
    GROUP BY hour
) hourly
"""
# The PostgreSQL types of COLUMNS, for a binary COPY.
COPY_TYPES = [
    "int8",  # data_source_id
    "text",  # metric
    "timestamptz",  # hour
    "timestamptz",  # first_at
    "float8",
    "timestamptz",  # last_at
    "float8",
    "float8",  # increase
    "float8",  # total
    "int4",  # count
    "float8",
    "float8",
]
POSTGRESQL_DELETE = f"""
DELETE FROM {ROLLUP} h USING {POSTGRESQL_TARGETS}
WHERE h.data_source_id = target.source_id AND h.metric = target.metric AND h.hour >= target.lo
  AND h.hour < target.hi
"""

# SQLite: the targets come as one JSON parameter (no limit on their number), timestamps as Django stores them
# ('YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC), so the hour is the text up to the hour followed by ':00:00'. SQLite
# (3.40) has no ORDER BY in aggregates: they take the rows in the window's order.
SQLITE_TARGETS = """(
    SELECT json_extract(value, '$[0]') AS source_id, json_extract(value, '$[1]') AS metric,
           '$."' || json_extract(value, '$[1]') || '"' AS path,
           json_extract(value, '$[2]') AS lo, json_extract(value, '$[3]') AS hi
    FROM json_each(%s)
) target"""
SQLITE_INSERT = f"""
INSERT INTO {ROLLUP} ({COLUMNS})
SELECT source_id, metric, hour, {AGGREGATES.format(order="")}
FROM (
    SELECT source_id, metric, at, hour, value,
           LAG(value) OVER w AS previous, LAG(at) OVER w IS NULL AS is_first,
           LEAD(at) OVER w IS NULL AS is_last
    FROM (
        SELECT target.source_id, target.metric, r."timestamp" AS at,
               substr(r."timestamp", 1, 13) || ':00:00' AS hour,
               CAST(json_extract(r."values", target.path) AS REAL) AS value
        FROM {SQLITE_TARGETS}
        JOIN {READING} r ON r.data_source_id = target.source_id AND r."timestamp" >= target.lo
             AND r."timestamp" < target.hi
        WHERE json_type(r."values", target.path) IS NOT NULL
    ) reading
    WINDOW w AS (PARTITION BY source_id, metric, hour ORDER BY at)
) pair
GROUP BY source_id, metric, hour
"""
SQLITE_DELETE = f"""
DELETE FROM {ROLLUP} WHERE id IN (
    SELECT h.id FROM {SQLITE_TARGETS}
    JOIN {ROLLUP} h ON h.data_source_id = target.source_id AND h.metric = target.metric
         AND h.hour >= target.lo AND h.hour < target.hi
)
"""

# PostgreSQL: one new reading that comes after every reading of its hour (a device sending as it measures)
# moves the hour's last reading and adds its value to the sums, in the order the SQL above adds them, so
# the doubles are the same as a refresh's; the hours it does not come last in are left to refresh().
# Without this a device sending every second made each reading compute its hour's thousands again.
POSTGRESQL_APPEND = f"""
INSERT INTO {ROLLUP} AS h ({COLUMNS})
SELECT %s, reading.metric, %s, %s, reading.value, %s, reading.value, 0, reading.value, 1, reading.value,
       reading.value
FROM unnest(%s::text[], %s::float8[]) AS reading(metric, value)
ON CONFLICT (data_source_id, metric, hour) DO UPDATE SET
    last_at = EXCLUDED.last_at, last_value = EXCLUDED.last_value,
    increase = h.increase + {register_increase_sql("h.last_value", "EXCLUDED.last_value")},
    total = h.total + EXCLUDED.total, count = h.count + 1,
    minimum = LEAST(h.minimum, EXCLUDED.minimum), maximum = GREATEST(h.maximum, EXCLUDED.maximum)
WHERE h.last_at < EXCLUDED.last_at
RETURNING metric
"""
