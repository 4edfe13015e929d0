"""Benchmark: `manage.py import_readings` of a large CSV on PostgreSQL, against plain COPY of the same rows.

    .venv/bin/python bench/import.py [--rows 1000000] [--database-url postgres://.../homelog_ingest_bench]

Drops and re-creates the benchmark database, writes a CSV of --rows readings (timestamp, energy, power),
times PostgreSQL COPY of the same rows (10,000 per COPY and transaction, over one connection) as the
baseline, then runs the import command as a child process and reports its rate and peak memory (the
child's maximum resident set size), then imports the file again to show that a re-run stores nothing.
Targets: at least 100,000 rows/s, under 150 MB.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

# The child's peak memory is read by a small go-between process: a child started straight from this one
# would report this process's own peak (Linux carries the high-water mark across fork and exec).
MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(peak_kib, code, file=sys.stderr)
"""


# import_readings' default --batch-size: the baseline copies in batches of the same size.
BATCH = 10_000


def run_import(path, source_id, url):
    command = [sys.executable, "manage.py", "import_readings", str(path), "--source", str(source_id)]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *command, "--no-progress"],
        cwd=_setup.ROOT,
        env=_setup.bench_environment(url),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    peak_kib, code = result.stderr.split()[-2:]
    if code != "0" or result.returncode != 0:
        sys.exit(f"import_readings failed: {result.stderr}")
    return seconds, int(peak_kib) / 1024, result.stdout.strip()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=_setup.DEFAULT_URL)
    args = parser.parse_args()

    _setup.fresh_database(args.database_url)
    _, source = _setup.make_source()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "readings.csv"
        with open(path, "w") as csv_file:
            csv_file.write("timestamp,energy,power\n")
            for i in range(args.rows):
                row = _setup.values(i)
                csv_file.write(f"{_setup.moment(i).isoformat()},{row['energy']},{row['power']}\n")
        size_mb = path.stat().st_size / 1e6

        from uuid_utils import uuid7

        baseline = _setup.copy_baseline(
            args.database_url,
            source.pk,
            [
                (uuid7(), _setup.moment(i).isoformat().encode(), orjson.dumps(_setup.values(i)))
                for i in range(args.rows)
            ],
            BATCH,
        )
        seconds, peak_mb, output = run_import(path, source.pk, args.database_url)
        again_seconds, again_peak_mb, again_output = run_import(path, source.pk, args.database_url)

    rate = args.rows / seconds
    copy_rate = args.rows / baseline
    print(f"rows: {args.rows:,} ({size_mb:.0f} MB of CSV), PostgreSQL at {args.database_url}")
    print(f"COPY (baseline):          {baseline:6.2f} s  {copy_rate:>10,.0f} rows/s")
    print(f"import_readings:          {seconds:6.2f} s  {rate:>10,.0f} rows/s  peak RSS {peak_mb:.0f} MB")
    print(f"  {output.splitlines()[0]}")
    again_rate = args.rows / again_seconds
    print(
        f"import_readings (re-run): {again_seconds:6.2f} s  {again_rate:>10,.0f} rows/s"
        f"  peak RSS {again_peak_mb:.0f} MB"
    )
    print(f"  {again_output.splitlines()[0]}")
    print(f"import rate / COPY rate: {rate / copy_rate:.2f}")
    print(
        f"target ≥ 100,000 rows/s: {'met' if rate >= 100_000 else 'NOT met'}; "
        f"peak < 150 MB: {'met' if peak_mb < 150 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
