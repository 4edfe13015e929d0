"""Benchmark: usage computed by readings.usage on PostgreSQL, against hand-written SQL for the same result.

    .venv/bin/python bench/usage.py [--runs 7] [--reuse] [--database-url postgres://.../homelog_usage_bench]

Drops and re-creates the benchmark database, then stores, with generate_series:
  * one source with a year (2025) of 1-minute readings, 525,600 rows, whose meter is replaced at mid-year;
  * a household of 10 sources with hourly readings for 2024 and 2025 (175,930 rows);
then builds their hourly usage rollups with `manage.py rebuild_usage_rollups` (timed and printed: what the
write side costs), and times, with the cache off, the best and the median of --runs:
  * daily consumption of the 1-minute source for 2025 (Europe/Berlin days), through `source_usage`, and
    through three hand-written PostgreSQL queries that give the same numbers (checked), two over the
    readings and one over the rollups, the fastest of which is the baseline. Target: at most 250 ms and
    at most 2x the baseline.
  * the monthly household summary (March 2025, with February and March 2024) through `household_summary`,
    and for the whole of 2025 by month. Target: at most 500 ms.
"""

import argparse
import datetime as dt
import io
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/homelog_usage_bench"
MINUTES = 525_600
REPLACED_AT = 262_800  # the minute the meter is replaced by one that starts at zero
HOURLY_SOURCES = 10


def store_readings():
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Household
    from sources.models import DataSource

    household = Household.objects.create(name="Bench", timezone="Europe/Berlin")
    minute = DataSource.objects.create(
        household=Household.objects.create(name="Bench, 1-minute meter", timezone="Europe/Berlin"),
        name="Smart meter",
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
        price_per_unit="0.320000",
    )
    hourly = [
        DataSource.objects.create(
            household=household,
            name=f"Meter {n}",
            type="electricity" if n % 2 else "water",
            metrics={"energy": {"unit": "kWh", "cumulative": True}},
            price_per_unit="0.300000" if n % 3 else None,
        )
        for n in range(HOURLY_SOURCES)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO readings_reading (id, data_source_id, "timestamp", "values", created_at)
            SELECT gen_random_uuid(), %s, timestamptz '2025-01-01 00:00+00' + make_interval(mins => i),
                   jsonb_build_object(
                       'energy', CASE WHEN i < %s THEN 10000 + i * 0.004 + (i / 7) * 0.003
                                      ELSE (i - %s) * 0.0045 END,
                       'power', 200 + i %% 700),
                   now()
            FROM generate_series(0, %s - 1) AS i
            """,
            [minute.pk, REPLACED_AT, REPLACED_AT, MINUTES],
        )
        for n, source in enumerate(hourly):
            cursor.execute(
                """
                INSERT INTO readings_reading (id, data_source_id, "timestamp", "values", created_at)
                SELECT gen_random_uuid(), %s, timestamptz '2024-01-01 00:00+00' + make_interval(hours => i),
                       -- the rate grows with time, so that a year earlier differs
                       jsonb_build_object('energy', 500 * %s + i * (0.2 + 0.05 * %s) + i * i * 0.000001),
                       now()
                FROM generate_series(0, 2 * 366 * 24 + 24) AS i
                """,
                [source.pk, n, n],
            )
    # The raw INSERT bypasses the models, as an import of old data would: the rollups that usage reads are
    # built afterwards by the management command made for that, and timed as the write-side cost.
    started = time.perf_counter()
    output = io.StringIO()
    call_command("rebuild_usage_rollups", stdout=output)
    build = f"{output.getvalue().strip()} (measured here: {time.perf_counter() - started:.2f} s)"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE readings_reading")
        cursor.execute("VACUUM ANALYZE readings_hourlyrollup")
    return household, minute, build


def database_cpu_ms():
    """CPU milliseconds the PostgreSQL backend of Django's connection has used (it runs on this machine):
    unlike the time on the clock, it hardly depends on what else the machine is doing."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def timed(functions, runs):
    """{name: [(wall ms, CPU ms of Python and PostgreSQL) of each run]} and {name: last result}, the
    functions taking turns in every round: on a shared machine the load changes from second to second,
    and each round sees about the same."""
    times = {name: [] for name in functions}
    results = {}
    for _ in range(runs):
        for name, function in functions.items():
            started, cpu = time.perf_counter(), time.process_time() * 1000 + database_cpu_ms()
            results[name] = function()
            wall = (time.perf_counter() - started) * 1000
            times[name].append((wall, time.process_time() * 1000 + database_cpu_ms() - cpu))
    return times, results


def figures(label, times):
    walls, cpus = [wall for wall, _ in times], [cpu for _, cpu in times]
    return (
        f"  {label:<30}best {min(walls):7.1f} ms   median {statistics.median(walls):7.1f} ms   "
        f"CPU best {min(cpus):6.0f} ms"
    )


# Baseline 1: one pass over the readings with Lag; pairs inside one bucket (width_bucket over the edges)
# are summed by bucket, the few that cross an edge are split over the buckets they overlap, all in SQL.
ONE_PASS_SQL = """
WITH edge AS (SELECT %(edges)s::timestamptz[] AS lo),
bucket AS (SELECT i, lo[i] AS lo, lo[i + 1] AS hi FROM edge, generate_series(1, %(buckets)s) AS i),
reading AS (
    SELECT "timestamp" AS t, ("values" ->> 'energy')::float8 AS v FROM readings_reading
    WHERE data_source_id = %(source)s AND "values" ? 'energy'
      AND "timestamp" >= coalesce((SELECT max("timestamp") FROM readings_reading
                                   WHERE data_source_id = %(source)s AND "values" ? 'energy'
                                     AND "timestamp" <= %(start)s), %(start)s)
      AND "timestamp" <= coalesce((SELECT min("timestamp") FROM readings_reading
                                   WHERE data_source_id = %(source)s AND "values" ? 'energy'
                                     AND "timestamp" >= %(end)s), %(end)s)
    OFFSET 0
),
pair AS (
    SELECT lag(t) OVER w AS pt, t, greatest(v - lag(v) OVER w, 0) AS inc FROM reading WINDOW w AS (ORDER BY t)
),
keyed AS MATERIALIZED (
    SELECT pt, t, inc, width_bucket(pt, edge.lo) AS kp, width_bucket(t, edge.lo) AS kt
    FROM pair, edge WHERE pt IS NOT NULL
),
inside AS (SELECT kp AS i, sum(inc) AS c FROM keyed WHERE kp = kt GROUP BY kp),
crosser AS MATERIALIZED (SELECT * FROM keyed WHERE kp <> kt),
crossing AS (
    SELECT bucket.i,
           sum(inc * extract(epoch FROM least(bucket.hi, crosser.t) - greatest(bucket.lo, crosser.pt))
               / extract(epoch FROM crosser.t - crosser.pt)) AS c
    FROM crosser
    CROSS JOIN LATERAL generate_series(greatest(crosser.kp, 1), least(crosser.kt, %(buckets)s)) AS spanned(i)
    JOIN bucket ON bucket.i = spanned.i
    WHERE crosser.pt < bucket.hi AND crosser.t > bucket.lo
    GROUP BY bucket.i
)
SELECT bucket.i, CASE WHEN inside.i IS NULL AND crossing.i IS NULL THEN NULL
                      ELSE coalesce(inside.c, 0) + coalesce(crossing.c, 0) END
FROM bucket LEFT JOIN inside USING (i) LEFT JOIN crossing USING (i) ORDER BY bucket.i
"""

# Baseline 2: what readings.usage does, written by hand for PostgreSQL: per bucket (a LATERAL join on the
# bucket's index range) the increases inside it and its first and last reading; the pairs that cross an
# edge are then split in Python (the same spread() as readings.usage). OFFSET 0 keeps PostgreSQL from
# merging the subquery into the window's, which would extract the JSON value twice per row.
PER_BUCKET_SQL = """
SELECT b.i, f.t, f.v, l.t, l.v, s.inc
FROM unnest(%(lo)s::timestamptz[], %(hi)s::timestamptz[]) WITH ORDINALITY AS b(lo, hi, i)
LEFT JOIN LATERAL (
    SELECT "timestamp" AS t, ("values" ->> 'energy')::float8 AS v FROM readings_reading
    WHERE data_source_id = %(source)s AND "values" ? 'energy' AND "timestamp" >= b.lo AND "timestamp" < b.hi
    ORDER BY "timestamp" LIMIT 1) f ON true
LEFT JOIN LATERAL (
    SELECT "timestamp" AS t, ("values" ->> 'energy')::float8 AS v FROM readings_reading
    WHERE data_source_id = %(source)s AND "values" ? 'energy' AND "timestamp" >= b.lo AND "timestamp" < b.hi
    ORDER BY "timestamp" DESC LIMIT 1) l ON true
LEFT JOIN LATERAL (
    SELECT sum(greatest(v - pv, 0)) AS inc FROM (
        SELECT v, lag(v) OVER (ORDER BY t) AS pv FROM (
            SELECT "timestamp" AS t, ("values" ->> 'energy')::float8 AS v FROM readings_reading
            WHERE data_source_id = %(source)s AND "values" ? 'energy'
              AND "timestamp" >= b.lo AND "timestamp" < b.hi OFFSET 0) r) p) s ON b.i > 1 AND b.i < %(last)s
ORDER BY b.i
"""

# Baseline 3: baseline 2 over the hourly rollups that readings.usage reads (readings_hourlyrollup): a bucket's
# first and last reading are its first hour's first and its last hour's last; its increase is that inside
# its hours plus, between consecutive hours, (first of one - last of the one before), clamped.
ROLLUP_PER_BUCKET_SQL = """
SELECT b.i, f.t, f.v, l.t, l.v, s.inc
FROM unnest(%(lo)s::timestamptz[], %(hi)s::timestamptz[]) WITH ORDINALITY AS b(lo, hi, i)
LEFT JOIN LATERAL (
    SELECT first_at AS t, first_value AS v FROM readings_hourlyrollup
    WHERE data_source_id = %(source)s AND metric = 'energy' AND hour >= b.lo AND hour < b.hi
    ORDER BY hour LIMIT 1) f ON true
LEFT JOIN LATERAL (
    SELECT last_at AS t, last_value AS v FROM readings_hourlyrollup
    WHERE data_source_id = %(source)s AND metric = 'energy' AND hour >= b.lo AND hour < b.hi
    ORDER BY hour DESC LIMIT 1) l ON true
LEFT JOIN LATERAL (
    SELECT sum(increase + greatest(first_value - previous, 0)) AS inc FROM (
        SELECT increase, first_value, lag(last_value) OVER (ORDER BY hour) AS previous
        FROM readings_hourlyrollup
        WHERE data_source_id = %(source)s AND metric = 'energy' AND hour >= b.lo AND hour < b.hi) r
    ) s ON b.i > 1 AND b.i < %(last)s
ORDER BY b.i
"""


def one_pass(source, edges):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            ONE_PASS_SQL,
            {
                "edges": edges,
                "buckets": len(edges) - 1,
                "source": source.pk,
                "start": edges[0],
                "end": edges[-1],
            },
        )
        return [None if value is None else round(value, 6) for _, value in cursor.fetchall()]


def per_bucket(source, edges, sql=PER_BUCKET_SQL):
    from django.db import connection

    from readings.usage.spread import spread
    from readings.usage.sql import EARLIEST, LATEST, CumulativeBucket, CumulativeStats, Point

    bounds = [EARLIEST, *edges, LATEST]
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {"lo": bounds[:-1], "hi": bounds[1:], "source": source.pk, "last": len(bounds) - 1},
        )
        rows = cursor.fetchall()
    buckets = [
        CumulativeBucket(Point(ft, fv) if ft else None, Point(lt, lv) if lt else None, inc or 0.0)
        for _, ft, fv, lt, lv, inc in rows
    ]
    stats = CumulativeStats(before=buckets[0].last, after=buckets[-1].first, buckets=buckets[1:-1])
    return [None if value is None else round(value, 6) for value in spread(stats, edges).consumption]


def same(ours, theirs):
    """Equal to the 6 decimals usage keeps (summing in another order may move the last one)."""
    return len(ours) == len(theirs) and all(
        (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, abs_tol=2e-6))
        for a, b in zip(ours, theirs, strict=True)
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="keep the readings of an earlier run")
    args = parser.parse_args()

    if args.reuse:
        os.environ.update(_setup.bench_environment(args.database_url))
        import django

        django.setup()
    else:
        _setup.fresh_database(args.database_url)
    from django.db import connection
    from django.test.utils import override_settings

    from readings.usage import calendar, household_summary, source_usage

    # Every call computes: nothing is kept between runs.
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
        if args.reuse:
            from accounts.models import Household
            from sources.models import DataSource

            minute = DataSource.objects.select_related("household").get(name="Smart meter")
            household = Household.objects.get(name="Bench")
        else:
            print("storing readings ...", flush=True)
            household, minute, build = store_readings()
            print(f"rollups: {build}", flush=True)
        tz = household.tzinfo
        year = (dt.date(2025, 1, 1), dt.date(2026, 1, 1))
        edges = calendar.bucket_edges(
            calendar.local_moment(year[0], tz), calendar.local_moment(year[1], tz), "day", tz, 400
        )
        # The baselines get what usage gets: no JIT compilation (see readings/usage/sql.py).
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        times, results = timed(
            {
                "usage": lambda: source_usage(minute, "energy", *year, "day"),
                "one pass": lambda: one_pass(minute, edges),
                "per bucket": lambda: per_bucket(minute, edges),
                "rollup per bucket": lambda: per_bucket(minute, edges, ROLLUP_PER_BUCKET_SQL),
            },
            args.runs,
        )
        ours = [bucket.consumption for bucket in results["usage"].buckets]
        assert same(ours, results["per bucket"]), "the hand-written per-bucket query disagrees"
        assert same(ours, results["one pass"]), "the hand-written one-pass query disagrees"
        assert same(ours, results["rollup per bucket"]), "the hand-written query over rollups disagrees"
        baselines = ("one pass", "per bucket", "rollup per bucket")
        ratios = [
            mine[0] / min(wall for wall, _ in others)
            for mine, *others in zip(times["usage"], *(times[name] for name in baselines), strict=True)
        ]
        cpu_ratio = min(cpu for _, cpu in times["usage"]) / min(
            cpu for name in baselines for _, cpu in times[name]
        )

        month = (dt.date(2025, 3, 1), dt.date(2025, 4, 1))
        summary_times, summaries = timed(
            {
                "month": lambda: household_summary(household, *month, "month"),
                "year": lambda: household_summary(household, *year, "month"),
            },
            args.runs,
        )

    print(f"1-minute source, {MINUTES:,} readings, daily consumption for 2025 ({len(ours)} days):")
    print(figures("source_usage", times["usage"]))
    print(figures("hand SQL, one pass", times["one pass"]))
    print(figures("hand SQL, per bucket", times["per bucket"]))
    print(figures("hand SQL, rollups per bucket", times["rollup per bucket"]))
    print(
        f"  ratio to the faster hand SQL of the same round: median {statistics.median(ratios):.2f}x, "
        f"best {min(ratios):.2f}x, worst {max(ratios):.2f}x; CPU {cpu_ratio:.2f}x (target <= 2x; <= 250 ms)"
    )
    total = results["usage"].total.consumption
    print(f"  year total {total:,.3f} kWh; the meter replacement counted from its new value")
    print(f"household of {HOURLY_SOURCES} sources with hourly readings for 2024-2025:")
    print(figures("summary, March 2025 by month", summary_times["month"]))
    print(figures("summary, 2025 by month", summary_times["year"]))
    summary = summaries["month"]
    print(
        f"  (target <= 500 ms); March cost {summary.current.cost}, a year earlier {summary.year_earlier.cost}"
    )


if __name__ == "__main__":
    main()
