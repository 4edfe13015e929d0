"""Metric names as clients of the original service wrote them ("Energy use", "temp.1", "High"): through
readings, rollups, usage and CSV export and import."""

import datetime as dt

import pytest
from django.urls import reverse

from readings.models import HourlyRollup, Reading
from readings.services import delete_reading, ingest_readings
from sources.metrics import MAX_METRIC_NAME_LENGTH
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
LONGEST = "L" * MAX_METRIC_NAME_LENGTH
METRICS = {
    "Energy use": {"unit": "kWh", "cumulative": True},
    "temp.1": {"unit": "°C", "cumulative": False},
    LONGEST: {"unit": "", "cumulative": False},
}


@pytest.fixture
def meter(household):
    return DataSourceFactory(household=household, metrics=METRICS)


def body_of(response):
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_the_rollup_column_holds_the_longest_name():
    assert HourlyRollup._meta.get_field("metric").max_length == MAX_METRIC_NAME_LENGTH


def test_readings_of_such_metrics_are_rolled_up(meter):
    result = ingest_readings(
        meter,
        [
            {"timestamp": T0, "values": {"Energy use": 10.0, "temp.1": 20.5, LONGEST: 1}},
            {"timestamp": T0 + dt.timedelta(minutes=30), "values": {"Energy use": 12.5, "temp.1": 21.5}},
        ],
    )
    assert (result.created, result.errors) == (2, {})
    rows = HourlyRollup.objects.filter(data_source=meter).order_by("metric")
    assert [(row.metric, row.count, row.increase, row.total) for row in rows] == [
        ("Energy use", 2, 2.5, 22.5),
        (LONGEST, 1, 0.0, 1.0),
        ("temp.1", 2, 1.0, 42.0),
    ]


def test_usage_of_a_metric_with_a_space_in_its_name(api, viewer, meter):
    ingest_readings(
        meter,
        [
            {"timestamp": "2025-01-10T12:00:00Z", "values": {"Energy use": 100.0, "temp.1": 4.0}},
            {"timestamp": "2025-01-12T12:00:00Z", "values": {"Energy use": 148.0, "temp.1": 6.0}},
        ],
    )
    url = f"/api/sources/{meter.pk}/usage"
    query = {"interval": "month", "start": "2025-01-01", "end": "2025-02-01"}
    energy = api(viewer).get(url, {"metric": "Energy use", **query})
    assert energy.status_code == 200
    assert (energy.json()["metric"], energy.json()["unit"], energy.json()["total"]["consumption"]) == (
        "Energy use",
        "kWh",
        48.0,
    )
    temperature = api(viewer).get(url, {"metric": "temp.1", **query})
    assert temperature.status_code == 200
    assert temperature.json()["total"] | {"start": None, "end": None} == {
        "start": None,
        "end": None,
        "average": 5.0,
        "minimum": 4.0,
        "maximum": 6.0,
        "count": 2,
    }
    # Within an hour: read from the readings, not the rollups.
    within = api(viewer).get(
        url, {"metric": "Energy use", "interval": "day", "start": "2025-01-10T11:30:00Z", "end": "2025-01-13"}
    )
    assert within.status_code == 200
    assert within.json()["total"]["consumption"] == 48.0


def test_csv_export_and_import_keep_names_with_spaces_dots_and_capitals(api, owner, meter):
    ingest_readings(
        meter,
        [
            {"timestamp": T0, "values": {"Energy use": 1.25, "temp.1": 20}},
            {"timestamp": T0 + dt.timedelta(hours=1), "values": {LONGEST: 0.5}},
        ],
    )
    early, late = Reading.objects.of_source(meter).order_by("timestamp")
    exported = body_of(api(owner).get(f"/api/sources/{meter.pk}/readings.csv"))
    assert exported == (
        f"id,timestamp,Energy use,{LONGEST},temp.1\n"
        f"{early.pk},2025-03-01T12:00:00+00:00,1.25,,20\n"
        f"{late.pk},2025-03-01T13:00:00+00:00,,0.5,\n"
    )

    # Read back into the same source: the same readings, already stored.
    client = api(owner)
    response = client.generic(
        "POST", f"/api/sources/{meter.pk}/readings/bulk", exported.encode(), content_type="text/csv"
    )
    assert response.status_code == 200
    assert response.json() == {"created": 0, "existing": 2, "failed": 0, "errors": {}}
    # And once they are gone, stored again as they were, ids and all.
    ids = [early.pk, late.pk]
    for reading in (early, late):
        delete_reading(reading)
    response = client.generic(
        "POST", f"/api/sources/{meter.pk}/readings/bulk", exported.encode(), content_type="text/csv"
    )
    assert response.json() == {"created": 2, "existing": 0, "failed": 0, "errors": {}}
    assert list(Reading.objects.of_source(meter).order_by("timestamp").values_list("id", "values")) == [
        (ids[0], {"Energy use": 1.25, "temp.1": 20}),
        (ids[1], {LONGEST: 0.5}),
    ]
    meter.refresh_from_db()
    assert meter.reading_count == 2


def test_pages_show_and_take_such_metrics(client, member, meter):
    client.force_login(member)
    add_url = reverse("readings:reading-create", args=[meter.pk])
    html = client.get(add_url).content.decode()
    # Field names and ids without spaces: an id is one token of aria-describedby.
    assert 'name="metric_Energy~use"' in html
    assert 'aria-describedby="id_metric_Energy~use_helptext"' in html
    assert '<label for="id_metric_Energy~use">Energy use <span class="unit">(kWh)</span></label>' in html
    assert f'<label for="id_metric_{LONGEST}">{LONGEST} </label>' in html

    response = client.post(
        add_url, {"timestamp": "2025-03-10T07:30", "metric_Energy~use": "12.5", f"metric_{LONGEST}": "3"}
    )
    assert response.status_code == 302
    assert Reading.objects.get().values == {"Energy use": 12.5, LONGEST: 3}

    html = client.get(reverse("readings:source-detail", args=[meter.pk])).content.decode()
    assert '<th scope="col" class="num">Energy use <span class="unit">(kWh)</span></th>' in html
    assert f'<th scope="col" class="num">{LONGEST}</th>' in html


def test_the_usage_on_the_source_page_and_its_chart_take_such_names(client, member, meter):
    ingest_readings(
        meter,
        [
            {"timestamp": "2025-01-10T12:00:00Z", "values": {"Energy use": 100.0}},
            {"timestamp": "2025-01-12T12:00:00Z", "values": {"Energy use": 148.0}},
        ],
    )
    client.force_login(member)
    page = client.get(
        reverse("readings:source-detail", args=[meter.pk]), {"metric": "Energy use", "date": "2025-01-11"}
    )
    assert page.status_code == 200
    assert page.context["metric"] == "Energy use"
    assert page.context["usage"].total.consumption == 48.0
    chart = client.get(
        reverse("readings:usage-chart", args=[meter.pk]),
        {"metric": "temp.1", "period": "month", "date": "2025-01-01"},
    )
    assert (chart.status_code, chart["Content-Type"]) == (200, "image/svg+xml")
