"""Benchmark: the admin on millions of readings.

    .venv/bin/python -m bench.admin                      # 10,000,000 readings, seeded once
    .venv/bin/python -m bench.admin --readings 1000000 --reseed

Seeds a PostgreSQL database (COPY, binary, once; --reseed to start again) with --readings readings spread over
10 sources in 2 households, then signs in as staff and times each admin page in-process (server time, the
median of 5 after one warm-up): the readings changelist in its default order at page 1 and page 1,000,
filtered by source, by household and by this month, searched by a source's name, and the change pages of a
source and of a household. For every query a page runs on the readings table it prints EXPLAIN ANALYZE's
count of readings rows read from the table (heap rows fetched), which must stay within a page (100). The
baseline is the page-1 query written by hand (`SELECT ... ORDER BY ... LIMIT 100`), timed in the same run.
Target: every page <= 300 ms.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import _setup  # noqa: E402

SOURCES = 10
PAGE = 100
START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def seeded(url, readings):
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM readings_reading").fetchone()
            return row[0] == readings
    except psycopg.Error:
        return False


def seed(url, readings):
    _setup.fresh_database(url)
    from accounts.models import Household, Membership, Role, User
    from sources.models import DataSource

    staff = User.objects.create_superuser("admin-bench@example.com", "bench-password")
    homes = [Household.objects.create(name=f"Bench home {n}", timezone="Europe/Berlin") for n in range(2)]
    for home in homes:
        Membership.objects.create(user=staff, household=home, role=Role.OWNER)
    sources = [
        DataSource.objects.create(
            household=homes[n % 2],
            name=f"Meter {n:02d}",
            metrics={"energy": {"unit": "kWh", "cumulative": True}},
        )
        for n in range(SOURCES)
    ]
    per_source = readings // SOURCES
    began = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        columns = 'id, data_source_id, "timestamp", "values", created_at'
        with cursor.copy(f"COPY readings_reading ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "int8", "timestamptz", "jsonb", "timestamptz"])
            for source in sources:
                for n in range(per_source):
                    moment = START + dt.timedelta(minutes=n)
                    copy.write_row((uuid.uuid4(), source.pk, moment, json.dumps({"energy": n * 0.01}), now))
        conn.commit()
    DataSource.objects.recount_readings()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE readings_reading")
    print(f"# seeded {per_source * SOURCES:,} readings in {time.perf_counter() - began:.0f} s")


def heap_rows(plan):
    """Rows of readings_reading a plan read from the table: those scanned by sequential, bitmap and index
    scans, and the heap fetches of index-only scans."""
    total = 0
    node_type = plan.get("Node Type", "")
    if plan.get("Relation Name") == "readings_reading":
        loops = plan.get("Actual Loops", 1)
        if node_type == "Index Only Scan":
            total += plan.get("Heap Fetches", 0)
        else:
            total += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops
    for child in plan.get("Plans", []):
        total += heap_rows(child)
    return total


def measure(client, url, label):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (label, response.status_code)
    times = []
    for _ in range(5):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    worst = 0
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if "readings_reading" not in query["sql"] or not query["sql"].lstrip().upper().startswith(
                "SELECT"
            ):
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            plan = cursor.fetchone()[0]
            plan = plan[0]["Plan"] if isinstance(plan, list) else json.loads(plan)[0]["Plan"]
            worst = max(worst, heap_rows(plan))
            if os.environ.get("BENCH_EXPLAIN"):
                print(query["sql"][:300], "->", heap_rows(plan))
    median = statistics.median(times)
    verdict = "ok  " if median <= 300 and worst <= PAGE else "MISS"
    print(
        f"{verdict} {label:<34} {median:7.1f} ms (target <= 300)  {len(captured):2d} queries, "
        f"most readings rows read by one: {worst:,} (target <= {PAGE})"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/homelog_admin_bench")
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    if args.reseed or not seeded(args.database, args.readings):
        seed(args.database, args.readings)
    else:
        os.environ.update(_setup.bench_environment(args.database))
        import django

        django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import Household, User
    from sources.models import DataSource

    setup_test_environment()
    # The client's requests are plain HTTP to "testserver".
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    # The admin's static files by their plain names: the benchmark does not run collectstatic.
    storage = "django.contrib.staticfiles.storage.StaticFilesStorage"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": storage}}
    client = Client()
    client.force_login(User.objects.get(email="admin-bench@example.com"))
    source = DataSource.objects.order_by("pk").first()
    home = Household.objects.order_by("pk").first()

    from django.db import connection

    with connection.cursor() as cursor:
        times = []
        for _ in range(5):
            began = time.perf_counter()
            cursor.execute(
                'SELECT * FROM readings_reading ORDER BY "timestamp" DESC, data_source_id DESC LIMIT 100'
            )
            cursor.fetchall()
            times.append((time.perf_counter() - began) * 1000)
    total = sum(DataSource.objects.values_list("reading_count", flat=True))
    print(f"# {DataSource.objects.count()} sources, {total:,} readings")
    print(f"baseline: the page-1 query by hand {statistics.median(times):7.1f} ms")

    changelist = "/admin/readings/reading/"
    for label, url in [
        ("readings, default order, page 1", changelist),
        ("readings, page 1,000", f"{changelist}?p=1000"),
        ("readings of one source", f"{changelist}?data_source__id__exact={source.pk}"),
        ("readings of one source, page 1,000", f"{changelist}?data_source__id__exact={source.pk}&p=1000"),
        ("readings of one household", f"{changelist}?data_source__household__id__exact={home.pk}"),
        ("readings searched by source name", f"{changelist}?q=Meter+03"),
        # The timestamp filter's "this month" of a month that holds readings.
        ("readings of one month", f"{changelist}?timestamp__gte=2020-03-01&timestamp__lt=2020-04-01"),
        ("a source's change page", f"/admin/sources/datasource/{source.pk}/change/"),
        ("a household's change page", f"/admin/accounts/household/{home.pk}/change/"),
    ]:
        measure(client, url, label)


if __name__ == "__main__":
    main()
