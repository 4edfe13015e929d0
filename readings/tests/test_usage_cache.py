"""The usage cache: results kept per source version, and usage without any cache at all."""

import datetime as dt

import pytest

from readings.changes import announce_readings_changed
from readings.models import Reading
from readings.services import update_reading
from readings.tests.factories import ReadingFactory
from readings.tests.usage_helpers import add_readings, at, consumption
from readings.usage import source_usage
from readings.usage.cache import cached, result_key
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory


@pytest.mark.django_db
def test_a_result_is_kept_until_the_sources_readings_change_and_never_for_a_deleted_source():
    source, other = DataSourceFactory(), DataSourceFactory()
    calls = []
    key = result_key("test", [source, other], "part")
    assert cached(key, lambda: calls.append(1) or "first") == "first"
    assert cached(result_key("test", [other, source], "part"), lambda: calls.append(1) or "second") == "first"
    announce_readings_changed([other.pk])
    assert cached(result_key("test", [source, other], "part"), lambda: calls.append(1) or "third") == "third"
    DataSource.objects.filter(pk=other.pk).delete()
    assert result_key("test", [source, other], "part") is None
    assert len(calls) == 2


@pytest.mark.django_db
def test_readings_changed_while_redis_is_away_are_in_the_usage_once_it_is_back(
    redis_through_forwarder, household, django_capture_on_commit_callbacks
):
    source = DataSourceFactory(household=household)
    add_readings(source, [("2025-01-01 00:00", 0.0), ("2025-01-02 00:00", 5.0), ("2025-01-03 00:00", 7.0)])

    def days():
        return consumption(source_usage(source, "energy", dt.date(2025, 1, 1), dt.date(2025, 1, 3), "day"))

    assert days() == [5.0, 2.0]
    assert days() == [5.0, 2.0]  # from the cache
    redis_through_forwarder.cut()
    last = Reading.objects.get(timestamp=at("2025-01-03 00:00"))
    with django_capture_on_commit_callbacks(execute=True):
        update_reading(last, values={"energy": 8.0})
    assert days() == [5.0, 3.0]
    redis_through_forwarder.restore()
    assert days() == [5.0, 3.0]


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
