"""What the ingestion benchmarks share: a fresh PostgreSQL database, Django pointed at it, and rows."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/homelog_ingest_bench"
START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def fresh_database(url):
    """Drop and create the database of `url`, migrate it, and set up Django against it."""
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = bench_environment(url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def bench_environment(url):
    # DEBUG off: with it on, Django keeps every query in memory.
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "homelog.settings",
        "DATABASE_URL": url,
        "DEBUG": "off",
        "SECRET_KEY": "bench-only-not-secret",
        # The cache that usage keeps, which ingestion invalidates; database 3 is this benchmark's own.
        "REDIS_URL": "redis://127.0.0.1:6379/3",
    }


def make_source(name="Bench meter"):
    from accounts.models import Household, Membership, Role, User
    from sources.models import DataSource

    user = User.objects.create_user("bench@example.com", "bench-password")
    household = Household.objects.create(name="Bench", timezone="Europe/Berlin")
    Membership.objects.create(user=user, household=household, role=Role.OWNER)
    source = DataSource.objects.create(
        household=household,
        name=name,
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )
    return user, source


def moment(i):
    return START + dt.timedelta(minutes=i)


def values(i):
    return {"energy": round(10_000 + i * 0.004, 3), "power": 200 + i % 700}


def copy_baseline(url, source_id, rows, batch):
    """Seconds PostgreSQL takes to COPY `rows` (id, timestamp text, values JSON, as bytes) straight into
    the emptied readings table over one connection, `batch` rows per COPY and transaction: the floor any
    ingestion path is measured against. The table is emptied again afterwards."""
    import time

    created_at = dt.datetime.now(dt.UTC).isoformat().encode()
    payloads = [
        b"".join(
            b"%s\t%d\t%s\t%s\t%s\n" % (str(i).encode(), source_id, ts, vals, created_at)
            for i, ts, vals in rows[start : start + batch]
        )
        for start in range(0, len(rows), batch)
    ]
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE readings_reading")
        conn.commit()
        started = time.perf_counter()
        for payload in payloads:
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    'COPY readings_reading (id, data_source_id, "timestamp", "values", created_at) FROM STDIN'
                ) as copy,
            ):
                copy.write(payload)
            conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("TRUNCATE readings_reading")
        conn.commit()
    return seconds
