import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.models import Reading
from readings.services import delete_readings
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def meter(household):
    return DataSourceFactory(
        household=household,
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )


def csv_url(source, query=""):
    return f"/api/sources/{source.pk}/readings.csv{query}"


def body_of(response):
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_export_streams_the_sources_readings_oldest_first(api, viewer, meter):
    late = ReadingFactory(data_source=meter, timestamp=T0 + dt.timedelta(hours=1), values={"power": 0.5})
    early = ReadingFactory(data_source=meter, timestamp=T0, values={"energy": 1.25, "power": 3})
    ReadingFactory(timestamp=T0, values={"energy": 7})
    response = api(viewer).get(csv_url(meter))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="source-{meter.pk}-readings.csv"'
    assert body_of(response) == (
        "id,timestamp,energy,power\n"
        f"{early.pk},2025-03-01T12:00:00+00:00,1.25,3\n"
        f"{late.pk},2025-03-01T13:00:00+00:00,,0.5\n"
    )


def test_export_takes_the_filters_of_the_readings_list(api, owner, meter):
    readings = [
        ReadingFactory(data_source=meter, timestamp=T0 + dt.timedelta(hours=hour), values={"energy": hour})
        for hour in range(4)
    ]
    # Without an offset, in the household's time zone (UTC+1 in March).
    response = api(owner).get(
        csv_url(meter, "?start=2025-03-01T14:00&end=2025-03-01T15:00:00Z&ordering=-timestamp")
    )
    assert body_of(response).splitlines()[1:] == [
        f"{readings[2].pk},2025-03-01T14:00:00+00:00,2,",
        f"{readings[1].pk},2025-03-01T13:00:00+00:00,1,",
    ]
    response = api(owner).get(csv_url(meter, "?start=yesterday"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_export_then_bulk_import_round_trips(api, owner, meter):
    for hour in range(3):
        ReadingFactory(
            data_source=meter, timestamp=T0 + dt.timedelta(hours=hour), values={"energy": hour / 7}
        )
    before = sorted(Reading.objects.values_list("id", "timestamp", "values"))
    text = body_of(api(owner).get(csv_url(meter)))
    delete_readings(Reading.objects.all())
    response = api(owner).post(f"/api/sources/{meter.pk}/readings/bulk", text, content_type="text/csv")
    assert response.json() == {"created": 3, "existing": 0, "failed": 0, "errors": {}}
    assert sorted(Reading.objects.values_list("id", "timestamp", "values")) == before


def test_export_is_for_the_household_only(api, outsider, meter):
    assert api().get(csv_url(meter)).status_code == 401
    response = api(outsider).get(csv_url(meter), HTTP_ACCEPT="text/csv")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_export_runs_a_constant_number_of_queries(api, owner, meter):
    client = api(owner)

    def queries_for(count):
        delete_readings(Reading.objects.all())
        for hour in range(count):
            ReadingFactory(
                data_source=meter, timestamp=T0 + dt.timedelta(hours=hour), values={"energy": hour}
            )
        with CaptureQueriesContext(connection) as captured:
            lines = body_of(client.get(csv_url(meter))).splitlines()
        assert len(lines) == count + 1
        return len(captured)

    assert queries_for(2) == queries_for(40)
