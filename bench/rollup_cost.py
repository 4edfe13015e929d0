"""Benchmark: what keeping the hourly usage rollups adds to storing batches of readings on PostgreSQL.

    .venv/bin/python bench/rollup_cost.py [--rows 200000] [--batch 10000]
                                          [--database-url postgres://.../homelog_rollup_bench]

Drops and re-creates the benchmark database, makes two sources with the import benchmarks' metrics (a
register and a level, a reading a minute), prepares --rows readings for each in batches of --batch, and
stores them with `store_readings`, the function behind the bulk API, the CSV import and the import page:
one source's batches with the rollups kept, the other's with the rollup refresh left out, taking turns
batch by batch so that both see the same load on a shared machine. Prints the time of each, their ratio,
and the time of the refresh alone.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/homelog_rollup_bench"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    _setup.fresh_database(args.database_url)
    from readings import services
    from readings.models import HourlyRollup
    from readings.services import batch as batch_service
    from readings.usage import rollup
    from sources.models import DataSource

    _, kept = _setup.make_source("With rollups")
    skipped = DataSource.objects.create(
        household=kept.household, name="Without rollups", metrics=kept.metrics
    )
    tz = kept.household.tzinfo

    def batches(source):
        # One at a time, as an import holds them: 20 prepared batches at once would make every garbage
        # collection walk 400,000 dicts, and the refresh's allocations call for more of them.
        for start in range(0, args.rows, args.batch):
            yield services.prepare_readings(
                source,
                [
                    {"timestamp": _setup.moment(i), "values": _setup.values(i)}
                    for i in range(start, min(start + args.batch, args.rows))
                ],
                tzinfo=tz,
            )

    refresh_seconds = []

    def timed_refresh(source, rows, created, hourly=None):
        # Sums the batch's hours here, not in prepare_readings as ingestion does, so that the figure holds
        # the whole cost of the rollups.
        started = time.perf_counter()
        rollup.refresh_batch(source, rows, created)
        refresh_seconds.append(time.perf_counter() - started)

    seconds = {"with": 0.0, "without": 0.0}
    for number, (with_batch, without_batch) in enumerate(zip(batches(kept), batches(skipped), strict=True)):
        turns = [("with", with_batch, timed_refresh), ("without", without_batch, None)]
        # Each goes first in every other round: the second of a pair finds the machine warmer.
        for name, batch, hook in turns if number % 2 else reversed(turns):
            batch_service.refresh_batch = hook or (lambda *args: None)
            started = time.perf_counter()
            result = services.store_readings(batch)
            seconds[name] += time.perf_counter() - started
            assert result.created == len(batch.rows), result
    batch_service.refresh_batch = rollup.refresh_batch
    assert not HourlyRollup.objects.filter(data_source=skipped).exists()
    columns = [field.attname for field in HourlyRollup._meta.concrete_fields if not field.primary_key]
    fresh = sorted(HourlyRollup.objects.filter(data_source=kept).values_list(*columns))
    rollup.rebuild([kept.pk])
    rebuilt = sorted(HourlyRollup.objects.filter(data_source=kept).values_list(*columns))
    assert fresh == rebuilt, "the rollups kept differ from a rebuild"

    count = len(refresh_seconds)
    print(f"{args.rows:,} readings per source in {count} batches of {args.batch:,}, {args.database_url}")
    for name in ("without", "with"):
        rate = args.rows / seconds[name]
        print(f"store_readings {name:<8} rollups: {seconds[name]:6.2f} s  {rate:>10,.0f} readings/s")
    print(
        f"with / without: {seconds['with'] / seconds['without']:.3f}; the refresh alone: "
        f"{sum(refresh_seconds) * 1000 / count:.1f} ms per batch "
        f"({sum(refresh_seconds) / seconds['with']:.1%} of storing with rollups)"
    )


if __name__ == "__main__":
    main()
