"""What finding the metric columns of a CSV export costs next to the export itself, on PostgreSQL.

    /work/main/.venv/bin/python bench/export.py [--rows 200000] [--database URL]

Prints the seconds of `export_metric_names` (the one query over the readings' value names) and of writing
the whole CSV, each the median of three runs.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_database, make_source, moment, values

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/homelog_export_bench"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database", default=DEFAULT_URL)
    args = parser.parse_args()
    fresh_database(args.database)

    from readings.csv_format import export_metric_names, export_rows, iter_csv_chunks
    from readings.models import Reading
    from readings.services import ingest_readings

    _, source = make_source()
    for start in range(0, args.rows, 10_000):
        items = [
            {"timestamp": moment(i), "values": values(i)}
            for i in range(start, min(start + 10_000, args.rows))
        ]
        ingest_readings(source, items)
    readings = Reading.objects.of_source(source)

    def timed(work):
        runs = []
        for _ in range(3):
            began = time.perf_counter()
            work()
            runs.append(time.perf_counter() - began)
        return statistics.median(runs)

    names = timed(lambda: export_metric_names(source, readings))
    whole = timed(
        lambda: sum(len(chunk) for chunk in iter_csv_chunks(export_rows(readings), source.metric_names))
    )
    print(f"{args.rows} readings: metric names {names:.3f} s, CSV {whole:.3f} s ({names / whole:.0%} more)")


if __name__ == "__main__":
    main()
