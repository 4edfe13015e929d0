"""Writes of one reading, or of one source's readings, racing each other on PostgreSQL: a deletion happens
once, a deleted reading never comes back, and a source deleted while batches arrive is a 409, never a 500."""

import datetime as dt
import functools
import threading

import pytest
from django.db import connection

from homelog.api.fixtures import bearer_client
from readings.models import HourlyRollup, Reading
from readings.tests.factories import ReadingFactory
from readings.tests.test_usage_rollup import assert_rollups_fresh
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time anyway"),
    pytest.mark.django_db(transaction=True),
]

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def at_once(*calls):
    """Run the callables in threads released together by a barrier; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def reading_url(reading):
    return f"/api/sources/{reading.data_source_id}/readings/{reading.pk}"


def reading_count(source):
    return DataSource.objects.get(pk=source.pk).reading_count


def deletes(client, url):
    return client.delete(url).status_code


def patches(client, url, value):
    return client.patch(url, {"values": {"energy": value}}, format="json").status_code


def sends_batches(client, source, first_minute):
    statuses = []
    for batch in range(6):
        items = [
            {
                "timestamp": (START + dt.timedelta(minutes=first_minute + 100 * batch + n)).isoformat(),
                "values": {"energy": n},
            }
            for n in range(50)
        ]
        response = client.post(f"/api/sources/{source.pk}/readings/bulk", items, format="json")
        statuses.append(response.status_code)
    return statuses


def test_parallel_deletes_of_one_reading_delete_it_once(household, owner):
    source = DataSourceFactory(household=household)
    for round_ in range(5):
        kept = ReadingFactory(data_source=source, timestamp=START + dt.timedelta(days=round_, minutes=1))
        doomed = ReadingFactory(data_source=source, timestamp=START + dt.timedelta(days=round_))
        calls = [functools.partial(deletes, bearer_client(owner), reading_url(doomed)) for _ in range(8)]
        assert sorted(at_once(*calls)) == [204] + [404] * 7, round_
        assert reading_count(source) == Reading.objects.filter(data_source=source).count() == round_ + 1
        assert Reading.objects.filter(pk=kept.pk).exists()
    assert_rollups_fresh()


def test_a_reading_deleted_while_it_is_changed_stays_deleted(household, owner):
    source = DataSourceFactory(household=household)
    for round_ in range(10):
        reading = ReadingFactory(data_source=source, timestamp=START + dt.timedelta(hours=round_))
        url = reading_url(reading)
        statuses = at_once(
            functools.partial(deletes, bearer_client(owner), url),
            *[functools.partial(patches, bearer_client(owner), url, 100.0 + n) for n in range(3)],
        )
        assert statuses[0] == 204, round_
        assert set(statuses[1:]) <= {200, 404}, round_
        assert not Reading.objects.filter(pk=reading.pk).exists(), round_
        assert reading_count(source) == 0 == Reading.objects.filter(data_source=source).count()
    assert not HourlyRollup.objects.filter(data_source=source).exists()


def test_a_source_deleted_while_batches_arrive_is_a_conflict_never_a_500(household, owner):
    for round_ in range(4):
        source = DataSourceFactory(household=household)
        results = at_once(
            *[functools.partial(sends_batches, bearer_client(owner), source, 1000 * n) for n in range(3)],
            functools.partial(deletes, bearer_client(owner), f"/api/sources/{source.pk}"),
        )
        assert results[-1] == 204, round_
        statuses = {status for sender in results[:-1] for status in sender}
        assert statuses <= {200, 404, 409}, (round_, results)
        assert not Reading.objects.filter(data_source_id=source.pk).exists()
        assert not HourlyRollup.objects.filter(data_source_id=source.pk).exists()
