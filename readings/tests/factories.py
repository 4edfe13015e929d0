import datetime as dt

import factory

from readings.models import Reading
from sources.tests.factories import DataSourceFactory

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


class ReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reading

    data_source = factory.SubFactory(DataSourceFactory)
    timestamp = factory.Sequence(lambda n: START + dt.timedelta(hours=n))
    values = factory.Sequence(lambda n: {"energy": float(n)})


def bulk_create_readings(rows, **kwargs):
    """Reading.objects.bulk_create for test data, keeping the sources' reading counters right."""
    from sources.models import DataSource

    rows = list(rows)
    created = Reading.objects.bulk_create(rows, **kwargs)
    DataSource.objects.filter(pk__in={row.data_source_id for row in rows}).recount_readings()
    return created
