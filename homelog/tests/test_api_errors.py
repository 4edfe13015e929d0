"""The conventions every API route shares: optional trailing slash, one JSON error shape, bad input."""

import pytest

from readings.models import Reading
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meter(household):
    return DataSourceFactory(household=household)


@pytest.mark.parametrize(
    "path",
    [
        "/api/sources",
        "/api/sources/",
        "/api/households",
        "/api/households/",
        "/api/auth/validate",
        "/api/auth/validate/",
    ],
)
def test_both_forms_of_a_url_answer_directly(api, owner, path):
    response = api(owner).get(path)
    assert response.status_code == 200


def test_post_without_trailing_slash_is_not_redirected(api, owner, meter):
    response = api(owner).post(f"/api/sources/{meter.pk}/readings", {"values": {"energy": 1}})
    assert response.status_code == 201


def test_malformed_json_is_400_and_stores_nothing(api, owner, meter):
    response = api(owner).post(
        f"/api/sources/{meter.pk}/readings", '{"values": {"energy": 1}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Expecting ',' delimiter: line 1 column 25 (char 24)",
        "code": "parse_error",
    }
    assert not Reading.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_415(api, owner, meter, content_type):
    response = api(owner).post(f"/api/sources/{meter.pk}/readings", "values=1", content_type=content_type)
    assert response.status_code == 415
    assert response.json() == {
        "detail": f'Unsupported media type "{content_type}" in request.',
        "code": "unsupported_media_type",
    }
    assert not Reading.objects.exists()


def test_a_json_body_that_is_not_an_object_is_400(api, owner, household):
    response = api(owner).post("/api/sources", "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
    assert not DataSource.objects.exists()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": "0"}, "limit", "Must be a whole number from 1 to 10000, not '0'."),
        ({"limit": "10001"}, "limit", "Must be a whole number from 1 to 10000, not '10001'."),
        ({"limit": "ten"}, "limit", "Must be a whole number from 1 to 10000, not 'ten'."),
        ({"offset": "-1"}, "offset", "Must be a whole number from 0 to 1000000000, not '-1'."),
        (
            {"offset": "1" + "0" * 30},
            "offset",
            "Must be a whole number from 0 to 1000000000, not '1000000000000000000000000000000'.",
        ),
    ],
)
@pytest.mark.parametrize("route", ["sources", "readings"])
def test_limit_and_offset_out_of_range_are_400(api, owner, meter, params, field, message, route):
    url = "/api/sources" if route == "sources" else f"/api/sources/{meter.pk}/readings"
    response = api(owner).get(url, params)
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Invalid input. {field}: {message}",
        "code": "invalid",
        "errors": {field: [message]},
    }


def test_the_largest_limit_is_allowed(api, owner, meter):
    response = api(owner).get(f"/api/sources/{meter.pk}/readings", {"limit": 10000, "offset": 1000000000})
    assert (response.status_code, response.json()) == (200, [])


def test_list_pages_through_link_headers(api, owner, household):
    DataSourceFactory.create_batch(3, household=household)
    client = api(owner)
    response = client.get("/api/sources", {"limit": 2})
    assert len(response.json()) == 2
    assert response.headers["Link"] == '<http://testserver/api/sources?limit=2&offset=2>; rel="next"'
    last = client.get("/api/sources", {"limit": 2, "offset": 2})
    assert len(last.json()) == 1
    assert "Link" not in last.headers


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "last week"}, "'last week' is not an ISO 8601 date or date-time"),
        ({"end": "2025-13-01"}, "'2025-13-01' is not an ISO 8601 date or date-time"),
        ({"before": "99999-01-01"}, "'99999-01-01' is not an ISO 8601 date or date-time"),
        ({"after": "1066-10-14"}, "1066-10-14 is outside the years 1900 to 2199 that homelog keeps."),
        ({"ordering": "values"}, "Select a valid choice. values is not one of the available choices."),
    ],
)
def test_invalid_reading_filters_are_400(api, owner, meter, params, message):
    response = api(owner).get(f"/api/sources/{meter.pk}/readings", params)
    assert response.status_code == 400
    [(field, [got])] = response.json()["errors"].items()
    assert field == next(iter(params))
    assert got.startswith(message)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"household": "x"}, "Enter a whole number."),
        ({"type": "nuclear"}, "Select a valid choice. nuclear is not one of the available choices."),
        ({"active": "perhaps"}, "Select a valid choice. perhaps is not one of the available choices."),
    ],
)
def test_invalid_source_filters_are_400(api, owner, params, message):
    response = api(owner).get("/api/sources", params)
    assert response.status_code == 400
    assert response.json()["errors"] == {next(iter(params)): [message]}


def test_unknown_ids_and_other_households_look_alike(api, outsider, meter):
    for url in (f"/api/sources/{meter.pk}", "/api/sources/999999", f"/api/sources/{meter.pk}/readings"):
        response = api(outsider).get(url)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "code": "not_found"})


def test_method_not_allowed_has_the_same_shape(api, owner):
    response = api(owner).delete("/api/auth/validate")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.', "code": "method_not_allowed"}
