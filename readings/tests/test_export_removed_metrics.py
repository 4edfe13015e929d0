"""CSV export of a source one of whose metrics was removed: the readings keep that metric's values, and so
does the export, in columns after the current metrics'. Import stores values of current metrics only, so it
refuses such a column until the metric is added back, and says so."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.csv_format import CsvHeaderError, read_csv_batches
from readings.models import Reading
from readings.services import delete_reading, ingest_readings
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
BEFORE = {
    "energy": {"unit": "kWh", "cumulative": True},
    "Flow temp.": {"unit": "°C", "cumulative": False},
    "a_power": {"unit": "W", "cumulative": False},
}


@pytest.fixture
def meter(household):
    """A source that had three metrics and now has energy and a new one, z_new."""
    source = DataSourceFactory(household=household, metrics=BEFORE)
    result = ingest_readings(
        source,
        [
            {"timestamp": T0, "values": {"energy": 1, "a_power": 300}},
            {"timestamp": T0 + dt.timedelta(hours=1), "values": {"energy": 2, "Flow temp.": 35.5}},
            {"timestamp": T0 + dt.timedelta(hours=2), "values": {"energy": 3}},
        ],
    )
    assert result.created == 3
    source.metrics = {"energy": BEFORE["energy"], "z_new": {"unit": "", "cumulative": False}}
    source.save()
    return source


def ids(source):
    return [
        str(pk) for pk in Reading.objects.of_source(source).order_by("timestamp").values_list("pk", flat=True)
    ]


def body_of(response):
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_the_export_keeps_the_values_of_removed_metrics_after_the_current_ones(api, viewer, meter):
    first, second, third = ids(meter)
    text = body_of(api(viewer).get(f"/api/sources/{meter.pk}/readings.csv"))
    assert text == (
        "id,timestamp,energy,z_new,Flow temp.,a_power\n"
        f"{first},2025-03-01T12:00:00+00:00,1,,,300\n"
        f"{second},2025-03-01T13:00:00+00:00,2,,35.5,\n"
        f"{third},2025-03-01T14:00:00+00:00,3,,,\n"
    )


def test_only_removed_metrics_of_the_exported_readings_get_a_column(api, viewer, meter):
    _, second, third = ids(meter)
    text = body_of(api(viewer).get(f"/api/sources/{meter.pk}/readings.csv?start=2025-03-01T13:00:00Z"))
    assert text == (
        "id,timestamp,energy,z_new,Flow temp.\n"
        f"{second},2025-03-01T13:00:00+00:00,2,,35.5\n"
        f"{third},2025-03-01T14:00:00+00:00,3,,\n"
    )
    text = body_of(api(viewer).get(f"/api/sources/{meter.pk}/readings.csv?start=2025-03-01T14:00:00Z"))
    assert text == f"id,timestamp,energy,z_new\n{third},2025-03-01T14:00:00+00:00,3,\n"


def test_the_export_command_keeps_them_too(meter, capsys):
    first, second, third = ids(meter)
    call_command("export_readings", source=meter.pk, no_progress=True)
    assert capsys.readouterr().out == (
        "id,timestamp,energy,z_new,Flow temp.,a_power\n"
        f"{first},2025-03-01T12:00:00+00:00,1,,,300\n"
        f"{second},2025-03-01T13:00:00+00:00,2,,35.5,\n"
        f"{third},2025-03-01T14:00:00+00:00,3,,,\n"
    )


def test_the_export_takes_one_query_more_whatever_its_size(api, viewer, household):
    source = DataSourceFactory(household=household)
    client = api(viewer)

    def queries_for(count):
        ingest_readings(
            source,
            [{"timestamp": T0 + dt.timedelta(hours=n), "values": {"energy": n}} for n in range(count)],
        )
        with CaptureQueriesContext(connection) as captured:
            lines = body_of(client.get(f"/api/sources/{source.pk}/readings.csv")).splitlines()
        return len(lines), len(captured)

    small, large = queries_for(2), queries_for(40)
    assert (small[0], large[0]) == (3, 41)
    assert small[1] == large[1]


REFUSAL = (
    "The CSV header names 'Flow temp.', 'a_power', which this source does not measure; its metrics are: "
    "energy, z_new. A column of a metric removed from the source (an export keeps their values) imports once "
    "the metric is added back to the source."
)


def test_importing_such_a_file_is_refused_until_the_metrics_are_back(api, owner, meter):
    client = api(owner)
    before = sorted(Reading.objects.values_list("id", "timestamp", "values"))
    text = body_of(client.get(f"/api/sources/{meter.pk}/readings.csv"))
    bulk = f"/api/sources/{meter.pk}/readings/bulk"

    response = client.generic("POST", bulk, text.encode(), content_type="text/csv")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [REFUSAL]}

    response = client.patch(
        f"/api/sources/{meter.pk}",
        {"metrics": {"energy": "kWh", "z_new": "", "Flow temp.": "°C", "a_power": "W"}},
        format="json",
    )
    assert response.status_code == 200
    response = client.generic("POST", bulk, text.encode(), content_type="text/csv")
    assert response.json() == {"created": 0, "existing": 3, "failed": 0, "errors": {}}
    for reading in Reading.objects.all():
        delete_reading(reading)
    response = client.generic("POST", bulk, text.encode(), content_type="text/csv")
    assert response.json() == {"created": 3, "existing": 0, "failed": 0, "errors": {}}
    assert sorted(Reading.objects.values_list("id", "timestamp", "values")) == before


def test_every_importer_says_the_same(meter):
    with pytest.raises(CsvHeaderError) as exc:
        next(read_csv_batches(["timestamp,energy,a_power,Flow temp.\n"], meter.metrics, 10))
    assert str(exc.value) == REFUSAL.replace("'Flow temp.', 'a_power'", "'a_power', 'Flow temp.'")
