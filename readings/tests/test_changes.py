import pytest
from django.db.models.signals import post_delete, post_save

from readings.changes import announce_readings_changed, readings_changed
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
        reading.delete()
    assert heard == [frozenset({source.pk})] * 2


def test_bulk_writers_announce_once_per_call(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        announce_readings_changed([3, 1, 3])
        announce_readings_changed([])
    assert heard == [frozenset({1, 3})]


def test_receivers_are_connected_to_the_model_signals():
    assert post_save.has_listeners(sender=ReadingFactory._meta.model)
    assert post_delete.has_listeners(sender=ReadingFactory._meta.model)
