"""GET /api/sources/{id}/usage and /api/households/{id}/usage."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.api.usage import (
    ConsumptionBucketSerializer,
    HouseholdUsageSerializer,
    MeasurementBucketSerializer,
    SourceUsageSerializer,
)
from readings.tests.factories import ReadingFactory
from readings.tests.usage_helpers import add_readings, at, hourly
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meter(household):
    source = DataSourceFactory(household=household, priced=True)
    add_readings(source, [("2025-01-10 12:00", 100.0), ("2025-01-12 12:00", 148.0)])
    return source


def usage_url(source):
    return f"/api/sources/{source.pk}/usage"


def household_url(household):
    return f"/api/households/{household.pk}/usage"


def test_source_usage_by_day(api, viewer, meter):
    response = api(viewer).get(
        usage_url(meter), {"metric": "energy", "interval": "day", "start": "2025-01-10", "end": "2025-01-13"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "source": meter.pk,
        "metric": "energy",
        "unit": "kWh",
        "kind": "cumulative",
        "interval": "day",
        "timezone": "Europe/Berlin",
        "start": "2025-01-09T23:00:00Z",
        "end": "2025-01-12T23:00:00Z",
        "price_per_unit": "0.300000",
        "total": {
            "start": "2025-01-09T23:00:00Z",
            "end": "2025-01-12T23:00:00Z",
            "consumption": 48.0,
            "cost": 14.4,
            "coverage": 0.666667,
        },
        "buckets": [
            {
                "start": "2025-01-09T23:00:00Z",
                "end": "2025-01-10T23:00:00Z",
                "consumption": 12.0,
                "cost": 3.6,
                "coverage": 0.5,
            },
            {
                "start": "2025-01-10T23:00:00Z",
                "end": "2025-01-11T23:00:00Z",
                "consumption": 24.0,
                "cost": 7.2,
                "coverage": 1.0,
            },
            {
                "start": "2025-01-11T23:00:00Z",
                "end": "2025-01-12T23:00:00Z",
                "consumption": 12.0,
                "cost": 3.6,
                "coverage": 0.5,
            },
        ],
    }
    assert set(response.json()) == set(SourceUsageSerializer().fields)
    assert set(response.json()["buckets"][0]) == set(ConsumptionBucketSerializer().fields)


def test_the_only_metric_and_the_last_30_days_by_day_are_the_defaults(api, owner, meter):
    body = api(owner).get(usage_url(meter)).json()
    assert (body["metric"], body["interval"], len(body["buckets"])) == ("energy", "day", 30)


def test_moments_with_offsets_and_hours(api, owner, meter):
    response = api(owner).get(
        usage_url(meter),
        {"interval": "hour", "start": "2025-01-10T11:00:00Z", "end": "2025-01-10T14:00:00+01:00"},
    )
    assert [(b["start"], b["consumption"]) for b in response.json()["buckets"]] == [
        ("2025-01-10T11:00:00Z", 1.0),
        ("2025-01-10T12:00:00Z", 1.0),
    ]


def test_instantaneous_metric(api, member, household):
    thermometer = DataSourceFactory(household=household, instantaneous=True)
    add_readings(thermometer, [("2025-01-01 08:00", 19.0), ("2025-01-01 20:00", 21.5)], metric="temperature")
    body = api(member).get(usage_url(thermometer), {"start": "2025-01-01", "end": "2025-01-02"}).json()
    assert body["kind"] == "instantaneous"
    assert body["buckets"] == [
        {
            "start": "2024-12-31T23:00:00Z",
            "end": "2025-01-01T23:00:00Z",
            "average": 20.25,
            "minimum": 19.0,
            "maximum": 21.5,
            "count": 2,
        }
    ]
    assert set(body["buckets"][0]) == set(MeasurementBucketSerializer().fields)


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"interval": "fortnight"}, {"interval": ['"fortnight" is not a valid choice.']}),
        ({"metric": "power"}, {"metric": ["Unknown metric 'power'; this source has: energy."]}),
        (
            {"start": "yesterday"},
            {
                "start": [
                    "'yesterday' is not an ISO 8601 date or date-time "
                    "(e.g. 2025-01-31, 2025-01-31T07:30:00 or 2025-01-31T07:30:00+01:00)."
                ]
            },
        ),
        (
            {"start": "2025-02-01", "end": "2025-01-01"},
            {"non_field_errors": ["The start must be before the end."]},
        ),
        (
            {"start": "2020-01-01", "end": "2025-01-01", "interval": "hour"},
            {
                "non_field_errors": [
                    "This range needs more than 2000 buckets of one hour; "
                    "choose a shorter range or a longer interval."
                ]
            },
        ),
    ],
)
def test_bad_queries_are_400_with_what_is_wrong(api, owner, meter, query, errors):
    response = api(owner).get(usage_url(meter), query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"] == errors


def test_a_source_with_several_metrics_needs_one_chosen(api, owner, household):
    source = DataSourceFactory(
        household=household,
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )
    response = api(owner).get(usage_url(source))
    assert response.status_code == 400
    assert response.json()["errors"] == {"metric": ["Choose one of this source's metrics: energy, power."]}


def test_outsiders_and_anonymous_callers_do_not_see_usage(api, outsider, meter, household):
    assert api(outsider).get(usage_url(meter)).status_code == 404
    assert api(outsider).get(household_url(household)).status_code == 404
    assert api().get(usage_url(meter)).status_code == 401
    assert api().get(household_url(household)).status_code == 401


def test_household_usage(api, viewer, household, meter):
    response = api(viewer).get(household_url(household), {"start": "2025-01-01", "end": "2025-02-01"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(HouseholdUsageSerializer().fields)
    assert (body["household"], body["interval"], body["timezone"]) == (household.pk, "month", "Europe/Berlin")
    assert body["current"] == {
        "start": "2024-12-31T23:00:00Z",
        "end": "2025-01-31T23:00:00Z",
        "cost": 14.4,
        "totals": [{"type": "electricity", "unit": "kWh", "consumption": 48.0, "cost": 14.4}],
        "sources": [
            {
                "source": meter.pk,
                "name": meter.name,
                "type": "electricity",
                "metric": "energy",
                "unit": "kWh",
                "consumption": 48.0,
                "cost": 14.4,
                "coverage": 0.064516,
                "buckets": [
                    {
                        "start": "2024-12-31T23:00:00Z",
                        "end": "2025-01-31T23:00:00Z",
                        "consumption": 48.0,
                        "cost": 14.4,
                        "coverage": 0.064516,
                    }
                ],
            }
        ],
    }
    assert body["previous"]["start"] == "2024-11-30T23:00:00Z"
    assert body["previous"]["sources"][0]["consumption"] is None
    assert body["year_earlier"]["start"] == "2023-12-31T23:00:00Z"


def test_household_usage_rejects_a_bad_interval(api, owner, household):
    response = api(owner).get(household_url(household), {"interval": "decade"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"interval": ['"decade" is not a valid choice.']}


def queries_for(client, url, query):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_readings_or_sources(api, owner, household):
    client = api(owner)
    query = {"interval": "day", "start": "2025-01-01", "end": "2025-01-08"}
    counts = []
    for sources, hours in ((1, 10), (6, 150)):
        for _ in range(sources):
            add_readings(DataSourceFactory(household=household), hourly(at("2025-01-01 00:00"), hours, 1.0))
        source = household.data_sources.last()
        counts.append(
            (
                queries_for(client, usage_url(source), query),
                queries_for(client, household_url(household), query),
            )
        )
    assert counts[0] == counts[1]


def test_a_cached_answer_is_dropped_when_a_reading_is_added(
    api, owner, meter, django_capture_on_commit_callbacks
):
    client = api(owner)
    query = {"start": "2025-01-12", "end": "2025-01-13"}
    assert client.get(usage_url(meter), query).json()["total"]["consumption"] == 12.0
    with CaptureQueriesContext(connection) as captured:
        assert client.get(usage_url(meter), query).json()["total"]["consumption"] == 12.0
    assert not any("readings_reading" in q["sql"] for q in captured), "the second answer comes from the cache"
    with django_capture_on_commit_callbacks(execute=True):
        ReadingFactory(data_source=meter, timestamp=at("2025-01-13 00:00"), values={"energy": 150.0})
    # 12 hours at 1 kWh an hour, then 2 kWh until the new reading at midnight.
    assert client.get(usage_url(meter), query).json()["total"]["consumption"] == 14.0


def test_a_cached_household_answer_follows_its_readings_and_its_sources(api, owner, household, meter):
    client = api(owner)
    query = {"start": "2025-01-01", "end": "2025-02-01"}

    def current():
        return client.get(household_url(household), query).json()["current"]

    assert (current()["cost"], [s["name"] for s in current()["sources"]]) == (14.4, [meter.name])
    with CaptureQueriesContext(connection) as captured:
        current()
    tables = [q["sql"] for q in captured if "readings_reading" in q["sql"] or "readings_hourly" in q["sql"]]
    assert not tables, "the second answer comes from the cache"

    ReadingFactory(data_source=meter, timestamp=at("2025-01-13 00:00"), values={"energy": 150.0})
    assert (current()["totals"][0]["consumption"], current()["cost"]) == (50.0, 15.0)
    meter.name, meter.price_per_unit = "Main meter", "0.5"
    meter.save()
    assert ([s["name"] for s in current()["sources"]], current()["cost"]) == (["Main meter"], 25.0)
    gas = DataSourceFactory(household=household, name="Gas", type="gas")
    assert [s["name"] for s in current()["sources"]] == ["Gas", "Main meter"]
    gas.delete()
    assert [s["name"] for s in current()["sources"]] == ["Main meter"]
