import datetime as dt
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from readings.models import Reading
from readings.services import ReadingsClash, create_reading
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_generated_ids_are_time_ordered_uuid7():
    first, second = ReadingFactory(), ReadingFactory()
    assert first.id.version == 7
    assert first.id < second.id


def test_a_client_supplied_id_is_kept():
    reading_id = uuid.UUID("0193a0e2-0000-7000-8000-000000000001")
    reading = ReadingFactory(id=reading_id)
    assert Reading.objects.get().pk == reading_id == reading.pk


def test_duplicate_timestamp_for_a_source_is_rejected():
    reading = ReadingFactory(timestamp=T0)
    with pytest.raises(ReadingsClash):
        create_reading(reading.data_source, timestamp=T0, values={"energy": 2.0})
    with pytest.raises(IntegrityError):
        Reading.objects.bulk_create(
            [Reading(data_source=reading.data_source, timestamp=T0, values={"energy": 3.0})]
        )


def test_same_timestamp_on_another_source_is_fine():
    ReadingFactory(timestamp=T0)
    ReadingFactory(timestamp=T0)
    assert Reading.objects.count() == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"energy": float("nan")}, "Value of 'energy' must be a finite number, not nan."),
        ({"energy": "10"}, "Value of 'energy' must be a number, not '10'."),
        ({"gas": 10}, "Unknown metric 'gas'; this source has: energy."),
        ({}, "Values must contain at least one metric."),
    ],
)
def test_clean_validates_values_against_the_source(values, message):
    reading = Reading(data_source=DataSourceFactory(), timestamp=T0, values=values)
    with pytest.raises(ValidationError) as exc:
        reading.full_clean()
    assert exc.value.message_dict == {"values": [message]}


def test_full_clean_reports_a_duplicate_timestamp():
    reading = ReadingFactory(timestamp=T0)
    duplicate = Reading(data_source=reading.data_source, timestamp=T0, values={"energy": 1.0})
    with pytest.raises(ValidationError) as exc:
        duplicate.full_clean()
    assert exc.value.messages == ["Reading with this Data source and Timestamp already exists."]


def test_visible_to_and_between(household, owner, outsider, other_household):
    ours = DataSourceFactory(household=household)
    theirs = DataSourceFactory(household=other_household)
    inside = ReadingFactory(data_source=ours, timestamp=T0)
    ReadingFactory(data_source=ours, timestamp=T0 + dt.timedelta(days=1))
    ReadingFactory(data_source=theirs, timestamp=T0)

    assert set(Reading.objects.visible_to(owner).values_list("data_source", flat=True)) == {ours.pk}
    assert list(Reading.objects.visible_to(owner).between(T0, T0 + dt.timedelta(days=1))) == [inside]
    assert list(Reading.objects.visible_to(AnonymousUser())) == []
    assert Reading.objects.visible_to(outsider).get().data_source == theirs


def test_of_visible_source_gives_a_source_s_readings_to_its_household_only(
    household, owner, outsider, other_household
):
    ours = DataSourceFactory(household=household)
    other_of_ours = DataSourceFactory(household=household)
    theirs = DataSourceFactory(household=other_household)
    mine = ReadingFactory(data_source=ours, timestamp=T0)
    ReadingFactory(data_source=other_of_ours, timestamp=T0)
    ReadingFactory(data_source=theirs, timestamp=T0)

    assert list(Reading.objects.of_visible_source(ours.pk, owner)) == [mine]
    assert list(Reading.objects.of_visible_source(theirs.pk, owner)) == []
    assert list(Reading.objects.of_visible_source(ours.pk, outsider)) == []
    assert list(Reading.objects.of_visible_source(ours.pk, AnonymousUser())) == []


def test_newest_first_ordering():
    source = DataSourceFactory()
    older = ReadingFactory(data_source=source, timestamp=T0)
    newer = ReadingFactory(data_source=source, timestamp=T0 + dt.timedelta(minutes=1))
    assert list(Reading.objects.of_source(source).newest_first()) == [newer, older]
