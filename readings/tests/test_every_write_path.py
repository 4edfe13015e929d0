"""Every way a reading can be written (API, pages, admin, import, the services' writes of many) leaves the
sources' counters, the hourly rollups and the usage answers exactly as a recount and a rebuild from scratch
give them, and moves the usage it changed out of the cache."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from homelog.api.fixtures import bearer_client
from readings.models import Reading
from readings.services import delete_readings, move_readings
from readings.tests.factories import ReadingFactory
from readings.tests.test_usage_rollup import assert_rollups_fresh
from readings.usage import rollup
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
METRICS = {"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}}


def at(hour, minute=0):
    return dt.datetime(2025, 1, 1, hour, minute, tzinfo=UTC)


@pytest.fixture
def sources(household):
    meter = DataSourceFactory(household=household, name="Meter", metrics=METRICS)
    other = DataSourceFactory(household=household, name="Other", metrics=METRICS)
    readings = [
        ReadingFactory(
            data_source=meter, timestamp=at(hour, 10), values={"energy": 10.0 * hour * hour, "power": hour}
        )
        for hour in range(6)
    ]
    ReadingFactory(data_source=other, timestamp=at(0, 30), values={"energy": 1.0})
    return meter, other, readings


def api_create(ctx):
    body = {"timestamp": "2025-01-01T06:30:00Z", "values": {"energy": 70}}
    assert ctx.api.post(ctx.readings_url, body, format="json").status_code == 201


def api_create_with_id(ctx):
    body = {
        "id": "0192f3a4-5b6c-7d8e-9f01-23456789abcd",
        "timestamp": "2025-01-01T06:30:00Z",
        "values": {"energy": 70},
    }
    assert ctx.api.post(ctx.readings_url, body, format="json").status_code == 201


def api_update(ctx):
    response = ctx.api.patch(
        f"{ctx.readings_url}/{ctx.readings[2].pk}", {"values": {"energy": 25}}, format="json"
    )
    assert response.status_code == 200


def api_update_moving_in_time(ctx):
    url = f"{ctx.readings_url}/{ctx.readings[2].pk}"
    response = ctx.api.put(
        url, {"timestamp": "2025-01-01T09:15:00Z", "values": {"energy": 90}}, format="json"
    )
    assert response.status_code == 200


def api_delete(ctx):
    assert ctx.api.delete(f"{ctx.readings_url}/{ctx.readings[3].pk}").status_code == 204


def _bulk_items(*hours):
    return [{"timestamp": at(hour, 40).isoformat(), "values": {"energy": 10.0 * hour + 5}} for hour in hours]


def bulk_atomic(ctx):
    response = ctx.api.post(f"{ctx.readings_url}/bulk", _bulk_items(6, 7, 2), format="json")
    assert response.json()["created"] == 3


def bulk_partial(ctx):
    items = [*_bulk_items(7, 8), {"timestamp": at(1, 10).isoformat(), "values": {"energy": 1}}]
    response = ctx.api.post(f"{ctx.readings_url}/bulk?partial=true", items, format="json")
    assert (response.json()["created"], response.json()["failed"]) == (2, 1)


def page_add(ctx):
    url = reverse("readings:reading-create", args=[ctx.meter.pk])
    # 08:00 in Berlin is 07:00 UTC.
    response = ctx.page.post(
        url, {"timestamp": "2025-01-01T08:00", "metric_energy": "300", "metric_power": "3"}
    )
    assert response.status_code == 302


def page_edit(ctx):
    url = reverse("readings:reading-update", args=[ctx.readings[4].pk])
    data = {"timestamp": "2025-01-01T01:05", "metric_energy": "3", "meter_replaced": "on"}
    assert ctx.page.post(url, data).status_code == 302


def page_delete(ctx):
    url = reverse("readings:reading-delete", args=[ctx.readings[1].pk])
    assert ctx.page.post(url).status_code == 302


def page_import(ctx):
    url = reverse("readings:reading-import", args=[ctx.meter.pk])
    text = "timestamp,energy\n2025-01-01T07:20:00Z,72\n2025-01-01T03:50:00Z,35\n"
    upload = SimpleUploadedFile("readings.csv", text.encode(), content_type="text/csv")
    assert ctx.page.post(url, {"file": upload, "timezone": "UTC"}).status_code == 302


def admin_add(ctx):
    data = {
        "id": "0192f3a4-5b6c-7d8e-9f01-23456789abce",
        "data_source": ctx.other.pk,
        "timestamp_0": "2025-01-01",
        "timestamp_1": "03:20:00",
        "values": '{"energy": 4}',
    }
    assert ctx.admin.post(reverse("admin:readings_reading_add"), data).status_code == 302


def admin_change(ctx):
    reading = ctx.readings[2]
    data = {
        "id": str(reading.pk),
        "data_source": ctx.other.pk,
        "timestamp_0": "2025-01-01",
        "timestamp_1": "04:45:00",
        "values": '{"energy": 5}',
    }
    assert (
        ctx.admin.post(reverse("admin:readings_reading_change", args=[reading.pk]), data).status_code == 302
    )


def admin_delete(ctx):
    url = reverse("admin:readings_reading_delete", args=[ctx.readings[0].pk])
    assert ctx.admin.post(url, {"post": "yes"}).status_code == 302


def admin_delete_action(ctx):
    selected = [str(ctx.readings[1].pk), str(ctx.readings[4].pk)]
    data = {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    assert ctx.admin.post(reverse("admin:readings_reading_changelist"), data).status_code == 302


def import_command(ctx):
    path = ctx.tmp_path / "readings.csv"
    path.write_text("timestamp,energy,power\n2025-01-01T06:10:00Z,60,6\n2025-01-01T02:50:00Z,28,\n")
    call_command("import_readings", str(path), source=ctx.meter.pk, timezone="UTC", no_progress=True)


def service_delete_many(ctx):
    assert delete_readings(Reading.objects.filter(data_source=ctx.meter, timestamp__lt=at(3))) == 3


def service_move(ctx):
    assert move_readings(Reading.objects.filter(data_source=ctx.meter, timestamp__gte=at(3)), ctx.other) == 3


WRITES = [
    api_create,
    api_create_with_id,
    api_update,
    api_update_moving_in_time,
    api_delete,
    bulk_atomic,
    bulk_partial,
    page_add,
    page_edit,
    page_delete,
    page_import,
    admin_add,
    admin_change,
    admin_delete,
    admin_delete_action,
    import_command,
    service_delete_many,
    service_move,
]


class Context:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def usage_of(client, source):
    query = {
        "metric": "energy",
        "interval": "hour",
        "start": "2025-01-01T00:00:00Z",
        "end": "2025-01-01T12:00:00Z",
    }
    response = client.get(f"/api/sources/{source.pk}/usage", query)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("write", WRITES, ids=[write.__name__ for write in WRITES])
def test_a_write_leaves_counts_rollups_and_usage_as_a_rebuild_gives_them(
    write, sources, owner, staff_user, client, tmp_path
):
    meter, other, readings = sources
    api = bearer_client(owner)
    client.force_login(owner)
    admin = type(client)()
    admin.force_login(staff_user)
    ctx = Context(
        meter=meter,
        other=other,
        readings=readings,
        api=api,
        page=client,
        admin=admin,
        readings_url=f"/api/sources/{meter.pk}/readings",
        tmp_path=tmp_path,
    )
    before = [usage_of(api, meter), usage_of(api, other)]  # and in the cache now

    write(ctx)

    after = [usage_of(api, meter), usage_of(api, other)]
    assert after != before
    for source in (meter, other):
        assert (
            DataSource.objects.get(pk=source.pk).reading_count
            == Reading.objects.filter(data_source=source).count()
        )
    assert_rollups_fresh()
    rollup.rebuild()
    for cache in caches.all():
        cache.clear()
    assert [usage_of(api, meter), usage_of(api, other)] == after
