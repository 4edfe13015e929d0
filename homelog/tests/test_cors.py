"""Cross-origin clients of the API (django-cors-headers): the origins in CORS_ALLOWED_ORIGINS, on /api/."""

import pytest

from homelog.tests.routes import api_routes, path_of
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

APP = "https://app.example.org"


@pytest.fixture
def allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP, "http://localhost:5173"]


def cors_headers(response):
    return {
        name: value for name, value in response.headers.items() if name.lower().startswith("access-control")
    }


def preflight(client, path, origin=APP, method="POST"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


PREFLIGHT_HEADERS = {
    "access-control-allow-origin": APP,
    "access-control-allow-headers": "accept, authorization, content-type",
    "access-control-allow-methods": "DELETE, GET, OPTIONS, PATCH, POST, PUT",
    "access-control-max-age": "86400",
    "access-control-expose-headers": "Link, Retry-After, WWW-Authenticate",
}


def test_a_preflight_from_an_allowed_origin_is_answered_on_every_api_route(client, allowed, household):
    source = DataSourceFactory(household=household)
    ids = {
        "pk": str(source.pk),
        "source_pk": str(source.pk),
        "household_pk": str(household.pk),
        "user_id": "1",
    }
    paths = [path_of(regex, ids, "00000000-0000-0000-0000-000000000000") for regex, _ in api_routes()]
    assert len(paths) > 20
    for path in [*paths, "/api/no-such-route"]:
        response = preflight(client, path)
        assert response.status_code == 200, path
        assert {name.lower(): value for name, value in cors_headers(response).items()} == PREFLIGHT_HEADERS
        assert response.content == b""


def test_an_answer_to_an_allowed_origin_exposes_the_paging_and_retry_headers(client, api, allowed, owner):
    response = api(owner).get("/api/sources", HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert cors_headers(response) == {
        "access-control-allow-origin": APP,
        "access-control-expose-headers": "Link, Retry-After, WWW-Authenticate",
    }
    assert "origin" in response.headers["Vary"].lower()
    # No cookies: a cross-origin client authenticates with a bearer token.
    assert "access-control-allow-credentials" not in {name.lower() for name in response.headers}


def test_an_origin_not_in_the_list_gets_no_cors_headers(client, api, allowed, owner):
    response = preflight(client, "/api/sources", origin="https://evil.example.com")
    assert response.status_code == 200
    assert cors_headers(response) == {}
    response = api(owner).get("/api/sources", HTTP_ORIGIN="https://evil.example.com")
    assert (response.status_code, cors_headers(response)) == (200, {})


def test_by_default_no_origin_is_allowed(client, api, owner):
    response = preflight(client, "/api/sources", origin="http://localhost:5173")
    assert cors_headers(response) == {}
    response = api(owner).get("/api/sources", HTTP_ORIGIN="http://localhost:5173")
    assert (response.status_code, cors_headers(response)) == (200, {})


@pytest.mark.parametrize("path", ["/account/sign-in/", "/admin/login/", "/healthz"])
def test_pages_are_never_shared_with_other_origins(client, allowed, path):
    assert cors_headers(preflight(client, path)) == {}
    response = client.get(path, HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert cors_headers(response) == {}
