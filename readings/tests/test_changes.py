import pytest
from django.db import connection
from django.db.models.signals import post_delete, pre_delete
from django.test.utils import CaptureQueriesContext

from readings.changes import announce_readings_changed, readings_changed
from readings.services import delete_reading, update_reading
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    announcements = []

    def listener(sender, source_ids, **kwargs):
        announcements.append(source_ids)

    readings_changed.connect(listener)
    yield announcements
    readings_changed.disconnect(listener)


def test_saving_and_deleting_a_reading_is_announced_after_commit(heard, django_capture_on_commit_callbacks):
    source = DataSourceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        reading = ReadingFactory(data_source=source)
    assert heard == [frozenset({source.pk})]
    with django_capture_on_commit_callbacks(execute=True):
        delete_reading(reading)
    assert heard == [frozenset({source.pk})] * 2


def test_bulk_writers_announce_once_per_call(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        announce_readings_changed([3, 1, 3])
        announce_readings_changed([])
    assert heard == [frozenset({1, 3})]


def test_deleting_a_source_deletes_its_readings_without_loading_them():
    source = DataSourceFactory()
    ReadingFactory.create_batch(30, data_source=source)
    # A delete listener would make the cascade fetch every reading before deleting it.
    assert not post_delete.has_listeners(sender=ReadingFactory._meta.model)
    assert not pre_delete.has_listeners(sender=ReadingFactory._meta.model)
    with CaptureQueriesContext(connection) as captured:
        source.delete()
    reading_queries = [q["sql"] for q in captured if "readings_reading" in q["sql"]]
    assert len(reading_queries) == 1
    assert reading_queries[0].startswith("DELETE")
    assert ReadingFactory._meta.model.objects.count() == 0


def _count_of(source):
    source.refresh_from_db(fields=["reading_count"])
    return source.reading_count


def test_reading_count_follows_single_saves_and_deletes():
    source = DataSourceFactory()
    first, second = ReadingFactory(data_source=source), ReadingFactory(data_source=source)
    assert _count_of(source) == 2
    update_reading(first, values={"energy": 5.0})
    assert _count_of(source) == 2
    delete_reading(second)
    assert _count_of(source) == 1


def test_recount_readings_repairs_a_counter_that_a_raw_writer_skipped():
    from readings.models import Reading
    from sources.models import DataSource

    source, empty = DataSourceFactory(), DataSourceFactory()
    ReadingFactory.create_batch(3, data_source=source)
    DataSource.objects.update(reading_count=42)
    DataSource.objects.filter(pk__in=[source.pk, empty.pk]).recount_readings()
    assert (_count_of(source), _count_of(empty)) == (3, 0)
    assert Reading.objects.count() == 3
