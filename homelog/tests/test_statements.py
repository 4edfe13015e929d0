"""Statements: querysets compiled once per shape and run with the values of each request."""

import datetime as dt

import pytest
from django.db.models import DateTimeField, IntegerField

from homelog.statements import Statement
from readings.models import Reading
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def builds():
    return []


@pytest.fixture
def since(builds):
    def build(param, count):
        builds.append(count)
        readings = Reading.objects.filter(
            data_source_id=param("source", IntegerField()), timestamp__gte=param("start", DateTimeField())
        )
        return readings.order_by("timestamp").values_list("timestamp", "values")[:count]

    return Statement(build)


@pytest.fixture
def source():
    source = DataSourceFactory()
    for hour in range(4):
        ReadingFactory(data_source=source, timestamp=utc(2025, 1, 1, hour), values={"energy": float(hour)})
    ReadingFactory(timestamp=utc(2025, 1, 1, 3))  # another source's
    return source


def test_rows_are_those_of_the_queryset_with_the_values_given(since, source):
    rows = since.run(2, source=source.pk, start=utc(2025, 1, 1, 1))
    # Converted as Django converts them, on every database: aware datetimes and JSON values.
    assert rows == [(utc(2025, 1, 1, 1), {"energy": 1.0}), (utc(2025, 1, 1, 2), {"energy": 2.0})]
    last = since.run(10, source=source.pk, start=utc(2025, 1, 1, 3))
    assert last == [(utc(2025, 1, 1, 3), {"energy": 3.0})]


def test_a_shape_is_compiled_once_and_run_as_one_query(since, source, builds, django_assert_num_queries):
    for hour in range(3):
        with django_assert_num_queries(1):
            since.run(2, source=source.pk, start=utc(2025, 1, 1, hour))
    since.run(3, source=source.pk, start=utc(2025, 1, 1))
    assert builds == [2, 3]


def test_a_value_in_another_zone_means_the_same_moment(since, source):
    berlin = dt.timezone(dt.timedelta(hours=1))
    assert since.run(1, source=source.pk, start=dt.datetime(2025, 1, 1, 3, tzinfo=berlin)) == [
        (utc(2025, 1, 1, 2), {"energy": 2.0})
    ]


def test_a_missing_value_is_an_error(since, source):
    with pytest.raises(KeyError, match="start"):
        since.run(2, source=source.pk)
