import datetime as dt

import pytest

from accounts.tests.factories import HouseholdFactory, MembershipFactory
from homelog.testing import assert_constant_queries
from readings.tests.factories import ReadingFactory
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


def iso(moment):
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def as_json(source, reading_count=0, latest=None):
    return {
        "id": source.pk,
        "name": source.name,
        "description": source.description,
        "type": source.type,
        "household": source.household_id,
        "owner_id": source.created_by_id,
        "metrics": source.units,
        "metric_kinds": source.metric_kinds,
        "price_per_unit": None if source.price_per_unit is None else str(source.price_per_unit),
        "is_active": source.is_active,
        "reading_count": reading_count,
        "latest_reading": latest
        and {"id": str(latest.pk), "timestamp": iso(latest.timestamp), "values": latest.values},
        "created_at": iso(source.created_at),
        "updated_at": iso(source.updated_at),
    }


@pytest.fixture
def meter(household, owner):
    return DataSourceFactory(household=household, created_by=owner, name="Electricity", priced=True)


def test_list_shows_the_sources_of_the_callers_households_with_counts_and_latest_reading(
    api, viewer, household, other_household, meter
):
    thermometer = DataSourceFactory(household=household, name="Attic", instantaneous=True)
    DataSourceFactory(household=other_household, name="Not ours")
    ReadingFactory(
        data_source=meter, timestamp=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), values={"energy": 1.0}
    )
    latest = ReadingFactory(
        data_source=meter, timestamp=dt.datetime(2025, 1, 2, tzinfo=dt.UTC), values={"energy": 2.5}
    )
    meter.refresh_from_db()
    response = api(viewer).get("/api/sources")
    assert response.status_code == 200
    assert response.json() == [as_json(thermometer), as_json(meter, reading_count=2, latest=latest)]
    assert response.json()[1]["price_per_unit"] == "0.300000"
    assert response.json()[0]["metric_kinds"] == {"temperature": "instantaneous"}


def test_list_filters(api, owner, household, meter):
    second = HouseholdFactory(name="Cabin")
    MembershipFactory(household=second, user=owner, owner=True)
    cabin_gas = DataSourceFactory(household=second, name="Cabin gas", type="gas")
    retired = DataSourceFactory(household=household, name="Old meter", is_active=False)
    client = api(owner)

    def names(**params):
        return [row["name"] for row in client.get("/api/sources", params).json()]

    assert names() == ["Electricity", "Old meter", "Cabin gas"]
    assert names(household=second.pk) == ["Cabin gas"]
    assert names(type="gas") == ["Cabin gas"]
    assert names(active="false") == ["Old meter"]
    assert names(active="true", search="ELEC") == ["Electricity"]
    assert (cabin_gas.is_active, retired.is_active) == (True, False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1.5e304", "Enter a whole number."),
        ("1.5", "Enter a whole number."),
        ("0", "Ensure this value is greater than or equal to 1."),
        ("9223372036854775808", "Ensure this value is less than or equal to 9223372036854775807."),
    ],
)
def test_a_household_filter_that_is_no_id_is_a_400_naming_it(api, owner, value, message):
    response = api(owner).get("/api/sources", {"household": value})

    assert response.status_code == 400
    assert response.json()["errors"] == {"household": [message]}


def test_list_runs_a_constant_number_of_queries(api, owner, household):
    def grow(n):
        for source in DataSourceFactory.create_batch(n, household=household):
            ReadingFactory.create_batch(2, data_source=source)

    count = assert_constant_queries(api(owner), "/api/sources", grow, small=2, large=40)
    assert count == 2  # the user behind the token, the sources with their counts and latest readings


def test_retrieve(api, member, meter):
    response = api(member).get(f"/api/sources/{meter.pk}")
    assert response.status_code == 200
    assert response.json() == as_json(meter)


def test_member_creates_a_source_with_units_and_default_kinds(api, member, household):
    body = {
        "name": "Main meter",
        "type": "electricity",
        "household": household.pk,
        "metrics": {"import": "kWh", "power": "W"},
        "metric_kinds": {"power": "instantaneous"},
        "price_per_unit": "0.31",
    }
    response = api(member).post("/api/sources", body)
    assert response.status_code == 201
    source = DataSource.objects.get()
    assert source.metrics == {
        "import": {"unit": "kWh", "cumulative": True},
        "power": {"unit": "W", "cumulative": False},
    }
    assert source.created_by == member
    assert response.json() == as_json(source)
    assert response.json()["price_per_unit"] == "0.310000"


def test_create_accepts_the_stored_form_of_metrics(api, owner, household):
    body = {
        "name": "Rain",
        "household": household.pk,
        "metrics": {"rain": {"unit": "mm", "cumulative": True}},
    }
    response = api(owner).post("/api/sources", body)
    assert response.status_code == 201
    assert response.json()["metrics"] == {"rain": "mm"}
    assert response.json()["metric_kinds"] == {"rain": "cumulative"}
    assert response.json()["type"] == "other"


def test_temperature_metrics_default_to_instantaneous(api, owner, household):
    body = {
        "name": "Hall",
        "type": "temperature",
        "household": household.pk,
        "metrics": {"temperature": "°C"},
    }
    assert api(owner).post("/api/sources", body).json()["metric_kinds"] == {"temperature": "instantaneous"}


def test_metric_names_keep_their_case_and_units_may_be_empty(api, owner, household):
    body = {"name": "Outside", "household": household.pk, "metrics": {"High": "degree", "Low": "degree"}}
    response = api(owner).post("/api/sources", body)
    assert response.status_code == 201
    assert response.json()["metrics"] == {"High": "degree", "Low": "degree"}
    body = {"name": "Counter", "household": household.pk, "metrics": {"Energy use 2.0": "", "t-out_1": "°C"}}
    response = api(owner).post("/api/sources", body)
    assert response.status_code == 201
    assert response.json()["metrics"] == {"Energy use 2.0": "", "t-out_1": "°C"}
    source = DataSource.objects.get(pk=response.json()["id"])
    assert source.metrics == {
        "Energy use 2.0": {"unit": "", "cumulative": False},
        "t-out_1": {"unit": "°C", "cumulative": False},
    }


def test_metrics_left_out_are_one_metric_named_value_without_a_unit(api, owner, household):
    response = api(owner).post("/api/sources", {"name": "Alexa's Source", "household": household.pk})
    assert response.status_code == 201
    assert response.json()["metrics"] == {"value": ""}
    assert response.json()["metric_kinds"] == {"value": "instantaneous"}
    assert DataSource.objects.get().metrics == {"value": {"unit": "", "cumulative": False}}


def test_metrics_left_out_of_a_patch_stay_as_they_are(api, owner, meter):
    response = api(owner).patch(f"/api/sources/{meter.pk}", {"name": "Grid"})
    assert response.status_code == 200
    assert response.json()["metrics"] == {"energy": "kWh"}


def test_viewer_cannot_create_a_source(api, viewer, household):
    body = {"name": "X", "household": household.pk, "metrics": {"energy": "kWh"}}
    response = api(viewer).post("/api/sources", body)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Viewers cannot add sources to a household.",
        "code": "permission_denied",
    }
    assert not DataSource.objects.exists()


def test_a_household_outside_the_callers_is_like_one_that_does_not_exist(api, outsider, household):
    body = {"name": "X", "household": household.pk, "metrics": {"energy": "kWh"}}
    response = api(outsider).post("/api/sources", body)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "household": [f'Invalid pk "{household.pk}" - object does not exist.']
    }
    assert not DataSource.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"metrics": {}},
            "metrics",
            'A data source needs at least one metric, e.g. {"energy": {"unit": "kWh"}}.',
        ),
        (
            {"metrics": {"e" * 65: "kWh"}},
            "metrics",
            f"Metric name '{'e' * 65}' is too long: 65 characters, at most 64.",
        ),
        (
            {"metrics": {"Energy": "kWh", "energy": "kWh"}},
            "metrics",
            "Metric names 'Energy' and 'energy' differ only in case: keep one of them.",
        ),
        (
            {"metrics": {"timestamp": "s"}},
            "metrics",
            "Metric name 'timestamp' is reserved: every reading has an 'id' and a 'timestamp' column in CSV.",
        ),
        (
            {"metrics": {"id": ""}},
            "metrics",
            "Metric name 'id' is reserved: every reading has an 'id' and a 'timestamp' column in CSV.",
        ),
        (
            {"metrics": {"energy": "kilowatt-hours!!!"}},
            "metrics",
            "Metric 'energy' needs a unit of at most 16 characters (it may be empty).",
        ),
        (
            {"metric_kinds": {"gas": "cumulative"}},
            "metric_kinds",
            "Kinds given for metrics the source does not have: gas.",
        ),
        (
            {"metric_kinds": {"energy": "sometimes"}},
            "metric_kinds",
            "Each kind is 'cumulative' or 'instantaneous'; not so for: energy.",
        ),
        ({"price_per_unit": "-1"}, "price_per_unit", "Ensure this value is greater than or equal to 0."),
        ({"type": "nuclear"}, "type", '"nuclear" is not a valid choice.'),
        ({"name": ""}, "name", "This field may not be blank."),
    ],
)
def test_invalid_sources_are_refused(api, owner, household, changes, field, message):
    body = {"name": "Meter", "household": household.pk, "metrics": {"energy": "kWh"}, **changes}
    response = api(owner).post("/api/sources", body)
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert not DataSource.objects.exists()


def test_owner_updates_with_put(api, owner, household, meter):
    body = {
        "name": "Grid",
        "description": "Basement",
        "type": "electricity",
        "household": household.pk,
        "metrics": {"energy": "Wh"},
        "price_per_unit": None,
        "is_active": False,
    }
    response = api(owner).put(f"/api/sources/{meter.pk}", body)
    assert response.status_code == 200
    meter.refresh_from_db()
    assert (meter.name, meter.description, meter.price_per_unit, meter.is_active) == (
        "Grid",
        "Basement",
        None,
        False,
    )
    assert meter.metrics == {"energy": {"unit": "Wh", "cumulative": True}}
    assert response.json() == as_json(meter)


def test_patch_of_kinds_keeps_the_units(api, owner, meter):
    response = api(owner).patch(f"/api/sources/{meter.pk}", {"metric_kinds": {"energy": "instantaneous"}})
    assert response.status_code == 200
    meter.refresh_from_db()
    assert meter.metrics == {"energy": {"unit": "kWh", "cumulative": False}}


def test_a_source_stays_in_its_household(api, owner, household, meter):
    second = HouseholdFactory()
    MembershipFactory(household=second, user=owner, owner=True)
    api(owner).patch(f"/api/sources/{meter.pk}", {"household": second.pk})
    meter.refresh_from_db()
    assert meter.household == household


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_owners_change_or_delete_sources(api, request, meter, role):
    client = api(request.getfixturevalue(role))
    patch = client.patch(f"/api/sources/{meter.pk}", {"name": "Mine now"})
    assert patch.status_code == 403
    assert patch.json()["detail"] == "Only the household's owners can change or delete its sources."
    assert client.delete(f"/api/sources/{meter.pk}").status_code == 403
    meter.refresh_from_db()
    assert meter.name == "Electricity"


def test_owner_deletes_a_source_with_its_readings(api, owner, meter):
    ReadingFactory.create_batch(2, data_source=meter)
    response = api(owner).delete(f"/api/sources/{meter.pk}")
    assert response.status_code == 204
    assert not DataSource.objects.exists()


def test_put_keeps_the_kinds_of_kept_metrics_and_defaults_new_ones(api, owner, household, meter):
    meter.metrics = {"energy": {"unit": "kWh", "cumulative": False}}
    meter.save()
    body = {
        "name": "Grid",
        "type": "electricity",
        "household": household.pk,
        "metrics": {"energy": "kWh", "export": "kWh"},
    }
    assert api(owner).put(f"/api/sources/{meter.pk}", body).status_code == 200
    meter.refresh_from_db()
    assert meter.metrics == {
        "energy": {"unit": "kWh", "cumulative": False},
        "export": {"unit": "kWh", "cumulative": True},
    }


def test_a_viewer_is_refused_before_the_body_is_read(api, viewer, meter):
    response = api(viewer).put(f"/api/sources/{meter.pk}", {"metrics": "garbage"})
    assert response.status_code == 403


def test_a_created_source_says_where_it_is(api, member, household):
    client = api(member)
    response = client.post("/api/sources", {"name": "Test Source", "metrics": {"High": "degree"}})
    assert response.status_code == 201
    source = DataSource.objects.get()
    assert response.headers["Location"] == f"http://testserver/api/sources/{source.pk}"
    assert client.get(response.headers["Location"]).json() == response.json()
