"""POST /api/sources/{id}/readings with the client's own id: kept, and a reading sent again is stored once."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection

from homelog.api.fixtures import bearer_client
from readings.models import HourlyRollup, Reading
from readings.tests.factories import ReadingFactory
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory, DeviceTokenFactory

pytestmark = pytest.mark.django_db

READING_ID = "0192f3a4-5b6c-7d8e-9f01-23456789abcd"
BODY = {"id": READING_ID, "timestamp": "2025-07-01T12:00:00Z", "values": {"energy": 5.5}}


@pytest.fixture
def meter(household):
    return DataSourceFactory(
        household=household,
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )


def readings_url(source):
    return f"/api/sources/{source.pk}/readings"


def as_json(reading):
    return {
        "id": str(reading.pk),
        "data_source_id": reading.data_source_id,
        "timestamp": reading.timestamp.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "values": reading.values,
        "created_by_id": reading.created_by_id,
        "created_at": reading.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }


def counts(source):
    source.refresh_from_db()
    return (
        Reading.objects.of_source(source).count(),
        source.reading_count,
        HourlyRollup.objects.filter(data_source=source).count(),
    )


def test_the_clients_id_is_kept(api, member, meter):
    response = api(member).post(readings_url(meter), BODY, format="json")
    assert response.status_code == 201
    reading = Reading.objects.get()
    assert str(reading.pk) == READING_ID
    assert (reading.timestamp, reading.values, reading.created_by) == (
        dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC),
        {"energy": 5.5},
        member,
    )
    assert response.json() == as_json(reading)
    assert response.headers["Location"] == f"http://testserver/api/sources/{meter.pk}/readings/{READING_ID}"
    assert counts(meter) == (1, 1, 1)


def test_a_naive_timestamp_is_read_in_the_households_zone_with_an_id_too(api, member, meter):
    body = {**BODY, "timestamp": "2025-07-01T14:00:00"}
    assert api(member).post(readings_url(meter), body, format="json").status_code == 201
    assert Reading.objects.get().timestamp == dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC)


def test_the_same_reading_sent_again_is_200_with_the_stored_one(api, member, owner, meter):
    first = api(member).post(readings_url(meter), BODY, format="json")
    # The same instant written another way, by another person: still the same reading.
    again = api(owner).post(
        readings_url(meter), {**BODY, "timestamp": "2025-07-01T14:00:00+02:00"}, format="json"
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["created_by_id"] == member.pk
    assert "Location" not in again.headers
    assert counts(meter) == (1, 1, 1)


def test_a_device_sends_a_reading_twice(meter):
    DeviceTokenFactory(data_source=meter, secret="hlt_device-secret")
    device = bearer_client()
    device.credentials(HTTP_AUTHORIZATION="Token hlt_device-secret")
    assert device.post(readings_url(meter), BODY, format="json").status_code == 201
    again = device.post(readings_url(meter), BODY, format="json")
    assert again.status_code == 200
    assert again.json()["created_by_id"] is None
    assert counts(meter) == (1, 1, 1)


@pytest.mark.parametrize(
    "changes",
    [
        {"values": {"energy": 6}},
        {"values": {"energy": 5.5, "power": 1}},
        {"timestamp": "2025-07-01T12:00:01Z"},
    ],
)
def test_the_same_id_with_other_values_is_a_conflict(api, member, meter, changes):
    client = api(member)
    assert client.post(readings_url(meter), BODY, format="json").status_code == 201
    response = client.post(readings_url(meter), {**BODY, **changes}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Reading {READING_ID} is already stored with another timestamp or other values; change "
        f"it with PUT /api/sources/{meter.pk}/readings/{READING_ID}.",
        "code": "conflict",
    }
    reading = Reading.objects.get()
    assert (reading.timestamp, reading.values) == (
        dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC),
        {"energy": 5.5},
    )
    assert counts(meter) == (1, 1, 1)


def test_an_id_of_another_sources_reading_is_a_conflict(api, member, meter, other_household):
    elsewhere = DataSourceFactory(household=other_household)
    ReadingFactory(id=uuid.UUID(READING_ID), data_source=elsewhere, values={"energy": 5.5})
    response = api(member).post(readings_url(meter), BODY, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Id {READING_ID} is already used by a reading of another source; send a new id, or none.",
        "code": "conflict",
    }
    assert counts(meter) == (0, 0, 0)
    assert Reading.objects.get().data_source == elsewhere


def test_a_new_id_at_the_time_of_another_reading_is_a_conflict(api, member, meter):
    stored = ReadingFactory(data_source=meter, timestamp=dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC))
    for values in ({"energy": 5.5}, stored.values):
        response = api(member).post(readings_url(meter), {**BODY, "values": values}, format="json")
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This source already has a reading at 2025-07-01T12:00:00Z.",
            "code": "conflict",
        }
    assert list(Reading.objects.values_list("pk", flat=True)) == [stored.pk]
    assert counts(meter) == (1, 1, 1)


@pytest.mark.parametrize("bad", ["abc", 12, "0192f3a4-5b6c-7d8e-9f01-23456789abcz", ""])
def test_an_id_that_is_not_a_uuid_is_refused(api, member, meter, bad):
    response = api(member).post(readings_url(meter), {**BODY, "id": bad}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"id": [f"Id must be a UUID, not {bad!r}."]}
    assert not Reading.objects.exists()


def test_a_reading_keeps_its_id_when_changed(api, owner, meter):
    reading = ReadingFactory(data_source=meter)
    response = api(owner).patch(
        f"{readings_url(meter)}/{reading.pk}", {"id": READING_ID, "values": {"energy": 1}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["id"] == str(reading.pk)
    assert list(Reading.objects.values_list("pk", "values")) == [(reading.pk, {"energy": 1})]


def test_a_viewer_cannot_add_with_an_id_either(api, viewer, meter):
    assert api(viewer).post(readings_url(meter), BODY, format="json").status_code == 403
    assert not Reading.objects.exists()


def test_an_outsider_gets_404(api, outsider, meter):
    assert api(outsider).post(readings_url(meter), BODY, format="json").status_code == 404
    assert not Reading.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time anyway")
@pytest.mark.django_db(transaction=True)
def test_the_same_reading_sent_at_once_is_stored_once(household, member):
    for round_ in range(5):
        source = DataSourceFactory(household=household)
        body = {**BODY, "id": str(uuid.uuid4())}
        clients = [bearer_client(member) for _ in range(4)]
        barrier = threading.Barrier(len(clients))
        statuses = []

        def post(client, body=body, source=source, barrier=barrier, statuses=statuses):
            barrier.wait()
            try:
                statuses.append(client.post(readings_url(source), body, format="json").status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=post, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 200, 200, 201], round_
        assert counts(DataSource.objects.get(pk=source.pk)) == (1, 1, 1)
