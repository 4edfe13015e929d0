"""The usage cache: results kept per source version, and usage without any cache at all."""

import datetime as dt

import pytest
from django.core.cache import cache

from readings.tests.factories import ReadingFactory
from readings.tests.usage_helpers import add_readings, at
from readings.usage import source_usage
from readings.usage.cache import VERSION_KEY, cached, result_key
from sources.tests.factories import DataSourceFactory


@pytest.mark.django_db
def test_usage_of_a_source_without_a_version_is_computed_but_not_kept():
    source = DataSourceFactory()
    calls = []
    key = result_key("test", [source], "part")
    assert cached(key, lambda: calls.append(1) or "first") == "first"
    assert cached(key, lambda: calls.append(1) or "second") == "first"
    cache.delete(VERSION_KEY.format(source.pk))
    key = result_key("test", [source], "part")
    assert key is None
    assert [cached(key, lambda: calls.append(1) or "fresh") for _ in range(2)] == ["fresh", "fresh"]
    assert len(calls) == 3


@pytest.mark.django_db
def test_without_a_cache_usage_is_computed_and_readings_are_still_stored(
    settings, household, django_capture_on_commit_callbacks
):
    # Nothing listens on this port (the last of the range this checkout's test servers may use).
    settings.CACHES = {
        "default": {
            "BACKEND": "homelog.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:8249/4",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    source = DataSourceFactory(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        add_readings(source, [("2025-01-01 00:00", 0.0), ("2025-01-02 00:00", 5.0)])
        ReadingFactory(data_source=source, timestamp=at("2025-01-03 00:00"), values={"energy": 7.0})
    usage = source_usage(source, "energy", dt.date(2025, 1, 1), dt.date(2025, 1, 3), "day")
    assert [bucket.consumption for bucket in usage.buckets] == [5.0, 2.0]
