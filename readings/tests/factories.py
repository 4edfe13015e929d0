import datetime as dt

import factory

from readings.models import Reading
from readings.services import create_reading
from sources.tests.factories import DataSourceFactory

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


class ReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reading

    data_source = factory.SubFactory(DataSourceFactory)
    timestamp = factory.Sequence(lambda n: START + dt.timedelta(hours=n))
    values = factory.Sequence(lambda n: {"energy": float(n)})

    @classmethod
    def _create(cls, model_class, data_source, id=None, **fields):
        # Through the service, as every writer of readings: the counters and rollups stay exact.
        return create_reading(data_source, reading_id=id, **fields)


def bulk_create_readings(rows, **kwargs):
    """Reading.objects.bulk_create for test data, keeping the sources' reading counters and usage rollups
    right, as the management commands do after a raw write."""
    from readings.usage import rollup
    from sources.models import DataSource

    rows = list(rows)
    created = Reading.objects.bulk_create(rows, **kwargs)
    source_ids = {row.data_source_id for row in rows}
    DataSource.objects.filter(pk__in=source_ids).recount_readings()
    rollup.rebuild(source_ids)
    return created
