"""The sources list and a source's answer come from a compiled statement, not the serializer: they must give
exactly what DataSourceSerializer gives, for every kind of source and every filter."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from homelog.api.renderers import ORJSONRenderer
from readings.tests.factories import ReadingFactory
from sources.api.serializers import DataSourceSerializer
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


def serialized(*sources):
    """What the serializer gives, rendered and read back as a client sees it."""
    found = {
        source.pk: source for source in DataSource.objects.for_api().filter(pk__in=[s.pk for s in sources])
    }
    data = DataSourceSerializer([found[source.pk] for source in sources], many=True).data
    return json.loads(ORJSONRenderer().render(data))


@pytest.fixture
def sources(household, owner):
    electricity = DataSourceFactory(
        household=household, created_by=owner, name="Electricity", price_per_unit=Decimal("0.1234")
    )
    ReadingFactory(
        data_source=electricity,
        timestamp=dt.datetime(2025, 3, 1, 12, 30, 15, 250_000, tzinfo=dt.UTC),
        values={"energy": 1234.5},
    )
    attic = DataSourceFactory(household=household, name="Attic 50%_", instantaneous=True, is_active=False)
    solar = DataSourceFactory(
        household=household,
        name="Solar",
        type="solar",
        description="On the roof",
        metrics={
            "Grid in": {"unit": "kWh", "cumulative": True},
            "power.now": {"unit": "", "cumulative": False},
        },
        price_per_unit=Decimal("0"),
    )
    ReadingFactory(data_source=solar, timestamp=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), values={"Grid in": 3})
    ReadingFactory(
        data_source=solar, timestamp=dt.datetime(2024, 1, 2, tzinfo=dt.UTC), values={"power.now": -0.5}
    )
    return [attic, electricity, solar]  # the list's order: by name within the household


def test_the_list_is_what_the_serializer_gives(api, viewer, sources, other_household):
    DataSourceFactory(household=other_household)
    response = api(viewer).get("/api/sources")
    assert response.status_code == 200
    assert response.json() == serialized(*sources)
    assert response.json()[1]["price_per_unit"] == "0.123400"
    assert response.json()[1]["latest_reading"]["timestamp"] == "2025-03-01T12:30:15.250000Z"


def test_each_source_is_what_the_serializer_gives(api, viewer, sources):
    for source in sources:
        response = api(viewer).get(f"/api/sources/{source.pk}")
        assert response.status_code == 200
        assert response.json() == serialized(source)[0]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"type": "solar"}, ["Solar"]),
        ({"type": "electricity", "active": "true"}, ["Electricity"]),
        ({"active": "false"}, ["Attic 50%_"]),
        ({"search": "50%"}, ["Attic 50%_"]),
        ({"search": "%"}, ["Attic 50%_"]),
        ({"search": "_"}, ["Attic 50%_"]),
        ({"search": "OLA"}, ["Solar"]),
        ({"search": "nothing"}, []),
    ],
)
def test_filters_give_the_sources_they_name(api, owner, sources, params, names):
    response = api(owner).get("/api/sources", params)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == names


def test_the_household_filter_and_pages(api, owner, sources, household):
    client = api(owner)
    assert [row["name"] for row in client.get("/api/sources", {"household": household.pk}).json()] == [
        "Attic 50%_",
        "Electricity",
        "Solar",
    ]
    assert client.get("/api/sources", {"household": household.pk + 1000}).json() == []
    first = client.get("/api/sources", {"limit": 2})
    assert [row["name"] for row in first.json()] == ["Attic 50%_", "Electricity"]
    assert first.headers["Link"] == '<http://testserver/api/sources?limit=2&offset=2>; rel="next"'
    last = client.get("/api/sources", {"limit": 2, "offset": 2})
    assert [row["name"] for row in last.json()] == ["Solar"]
    assert "Link" not in last.headers


def test_another_households_source_is_a_404(api, outsider, sources):
    response = api(outsider).get(f"/api/sources/{sources[0].pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert api(outsider).get("/api/sources").json() == []
