"""JSON nested deeper than any request needs is refused with a 400, on every route that reads JSON."""

import pytest

from homelog.tests.routes import api_routes, path_of
from readings.models import Reading
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

TOO_DEEP = {"detail": "JSON nested deeper than 32 levels.", "code": "parse_error"}


def nested_arrays(depth):
    return "[" * depth + "]" * depth


def nested_objects(depth):
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


def in_values(depth):
    """A reading whose values hold `depth` levels in all (the reading itself is one)."""
    return '{"timestamp": "2025-01-31T07:30:00Z", "values": ' + nested_objects(depth - 1) + "}"


BODIES = {
    "arrays-33": nested_arrays(33),
    "objects-33": nested_objects(33),
    "arrays-1000": nested_arrays(1000),
    "objects-1000": nested_objects(1000),
    "arrays-100000": nested_arrays(100_000),
    "objects-100000": nested_objects(100_000),
    "values-33": in_values(33),
    "values-100000": in_values(100_000),
}


@pytest.fixture
def meter(household):
    return DataSourceFactory(household=household)


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/sources/{meter}/readings"),
        ("post", "/api/sources/{meter}/readings/bulk"),
        ("post", "/api/sources"),
        ("patch", "/api/sources/{meter}"),
        ("post", "/api/households"),
        ("patch", "/api/users/me"),
        ("post", "/api/auth/login"),
        ("post", "/api/auth/refresh"),
    ],
)
def test_too_deep_json_is_400_and_stores_nothing(api, owner, meter, method, path, body):
    response = getattr(api(owner), method)(path.format(meter=meter.pk), body, content_type="application/json")
    assert (response.status_code, response.json()) == (400, TOO_DEEP)
    assert not Reading.objects.exists()
    assert DataSource.objects.get() == meter


@pytest.mark.parametrize("path", ["/api/sources/{meter}/readings", "/api/sources/{meter}/readings/bulk"])
def test_32_levels_are_read_and_judged_by_the_serializer(api, owner, meter, path):
    body = in_values(32) if path.endswith("readings") else "[" + in_values(31) + "]"
    response = api(owner).post(path.format(meter=meter.pk), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Reading.objects.exists()


def test_no_route_that_reads_a_body_fails_on_too_deep_json(api, owner, meter):
    ids = {"pk": str(meter.pk), "source_pk": str(meter.pk), "household_pk": str(meter.household_id)}
    ids["user_id"] = str(owner.pk)
    client = api(owner)
    for regex, _ in api_routes():
        path = path_of(regex, ids, "00000000-0000-0000-0000-000000000000")
        for method in ("post", "put", "patch"):
            response = getattr(client, method)(path, BODIES["arrays-100000"], content_type="application/json")
            assert response.status_code < 500, (method, path)
            if response.status_code == 400:
                assert response.json() == TOO_DEEP, (method, path)
