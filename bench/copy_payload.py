"""Benchmark: homelog's binary COPY of readings (readings/services/copy.py, `copy_payload`) against psycopg's
own `Copy.set_types()` + `write_row()` for the same rows, into a temporary table of the readings' columns.

    .venv/bin/python -m bench.copy_payload [--rows 10000] [--rounds 5]
                                           [--database postgres://postgres@127.0.0.1:5432/postgres]

Prints milliseconds per batch for each, as the median of --rounds, the two taken in turn. The hand-made
payload stays only while it is clearly faster: every batch of the bulk API and of an import goes through it.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TABLE = (
    'CREATE TEMPORARY TABLE copy_bench (id uuid, data_source_id int8, "timestamp" timestamptz,'
    ' "values" jsonb, created_by_id int8, created_at timestamptz)'
)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    os.environ.update(DJANGO_SETTINGS_MODULE="homelog.settings", DEBUG="on", DATABASE_URL=args.database)
    import django

    django.setup()
    import orjson
    import psycopg
    from psycopg.types.json import Jsonb, set_json_dumps
    from uuid_utils.compat import uuid7

    from readings.services.copy import COLUMNS, copy_payload
    from readings.services.validation import MICROSECOND, PG_EPOCH

    class Source:
        pk = 1

    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    rows = []
    for n in range(args.rows):
        moment = start + dt.timedelta(minutes=n)
        rows.append((n, None, moment, {"energy": n * 0.5, "power": 3.0}, (moment - PG_EPOCH) // MICROSECOND))

    conn = psycopg.connect(args.database.replace("postgres://", "postgresql://"))
    # psycopg's jsonb with orjson, as fast as it can be made.
    set_json_dumps(lambda value: orjson.dumps(value).decode(), context=conn)
    statement = f"COPY copy_bench ({COLUMNS}) FROM STDIN (FORMAT BINARY)"

    def homelog():
        payload = copy_payload(Source, rows, None)
        with conn.cursor().copy(statement) as copy:
            copy.write(payload)

    def psycopg_rows():
        now = dt.datetime.now(dt.UTC)
        with conn.cursor().copy(statement) as copy:
            copy.set_types(["uuid", "int8", "timestamptz", "jsonb", "int8", "timestamptz"])
            write = copy.write_row
            for _, _, moment, values, _ in rows:
                write((uuid7(), 1, moment, Jsonb(values), None, now))

    times = {homelog: [], psycopg_rows: []}
    for _ in range(args.rounds):
        for run in times:
            conn.execute(TABLE)
            began = time.perf_counter()
            run()
            times[run].append((time.perf_counter() - began) * 1000)
            conn.rollback()
    ours, theirs = (statistics.median(times[run]) for run in (homelog, psycopg_rows))
    print(f"{args.rows:,} readings per batch, median of {args.rounds}")
    print(f"homelog's binary payload       {ours:7.1f} ms")
    print(f"psycopg set_types + write_row  {theirs:7.1f} ms  ({theirs / ours:.2f}x homelog's)")


if __name__ == "__main__":
    main()
