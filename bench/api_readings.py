"""How fast the API answers GET /api/sources/{id}/readings?limit=100, in process, against a baseline.

The baseline is the same route answered the ordinary DRF way (ReadingSerializer per row and the stock JSON
renderer); homelog's route reads the columns with values() and renders them with orjson. Both run in the same
process on the same database, through Django's full request handling (middleware, JWT authentication).

    DEBUG=on .venv/bin/python bench/api_readings.py                      # a throw-away SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/homelog_bench DEBUG=on \
        .venv/bin/python bench/api_readings.py

It creates (and on PostgreSQL drops) its own database; it prints requests per second and the ratio.
"""

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homelog.settings")
os.environ.setdefault("HTTPS", "off")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # not one log line per request
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

READINGS = int(os.environ.get("BENCH_READINGS", 20_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 400))
ROUNDS = 3


def main():
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory
    settings.ROOT_URLCONF = __name__
    setup_test_environment()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    test_db = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        run(test_db)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(database):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import Role
    from accounts.tests.factories import MembershipFactory
    from readings.models import Reading
    from readings.tests.factories import bulk_create_readings
    from sources.tests.factories import DataSourceFactory

    owner = MembershipFactory(role=Role.OWNER).user
    household = owner.memberships.get().household
    source = DataSourceFactory(household=household, created_by=owner)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    bulk_create_readings(
        [
            Reading(
                data_source=source,
                timestamp=start + dt.timedelta(minutes=15 * n),
                values={"energy": n * 0.25},
            )
            for n in range(READINGS)
        ],
        batch_size=5000,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        # Planner statistics, as a live database has them: without, PostgreSQL sorts the whole source.
        cursor.execute("ANALYZE")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(owner)}")
    routes = {
        "baseline (serializer + json)": f"/bench/baseline/sources/{source.pk}/readings?limit=100",
        "homelog (values + orjson)": f"/api/sources/{source.pk}/readings?limit=100",
    }
    for url in routes.values():
        response = client.get(url)
        assert response.status_code == 200 and len(response.json()) == 100, (url, response.status_code)
    same = (
        client.get(routes["baseline (serializer + json)"]).json()
        == client.get(routes["homelog (values + orjson)"]).json()
    )
    print(f"database: {database} ({READINGS} readings in one source); identical JSON: {same}")

    rates = {name: [] for name in routes}
    for _ in range(ROUNDS):
        for name, url in routes.items():
            began = time.perf_counter()
            for _ in range(REQUESTS):
                client.get(url)
            rates[name].append(REQUESTS / (time.perf_counter() - began))
    for name, values in rates.items():
        print(
            f"{name:32} {statistics.median(values):8.0f} requests/s (median of {ROUNDS} rounds of {REQUESTS})"
        )
    baseline, ours = (statistics.median(values) for values in rates.values())
    print(
        f"ratio homelog / baseline: {ours / baseline:.2f}x (one process, in-process client, no HTTP server)"
    )


def _baseline_urls():
    from django.urls import include, path
    from rest_framework import renderers
    from rest_framework.mixins import ListModelMixin

    from homelog.api.routers import OptionalSlashRouter
    from readings.api.views import ReadingViewSet

    class SerializerReadingViewSet(ReadingViewSet):
        renderer_classes = [renderers.JSONRenderer]

        def list(self, request, *args, **kwargs):
            return ListModelMixin.list(self, request, *args, **kwargs)

    router = OptionalSlashRouter()
    router.register(r"sources/(?P<source_pk>[0-9]+)/readings", SerializerReadingViewSet, basename="baseline")
    return [path("bench/baseline/", include(router.urls)), path("", include("homelog.urls"))]


def __getattr__(name):
    # Django imports this module as the URLconf only after setup, when the views can be imported.
    if name == "urlpatterns":
        return _baseline_urls()
    raise AttributeError(name)


if __name__ == "__main__":
    main()
