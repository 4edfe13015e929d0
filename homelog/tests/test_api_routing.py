"""How /api/ answers requests that reach no view: JSON errors in the API's one shape, never an HTML page."""

import pytest

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "No API route matches this path.", "code": "not_found"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api",
        "/api/nothing-here",
        "/api/sources/abc",
        "/api/sources/1/readings/not-a-uuid",
        "/api/households/1/members/x",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_api_path_matching_no_route_is_a_json_404(api, owner, path, method):
    response = getattr(api(owner), method)(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


def test_an_api_path_matching_no_route_is_a_json_404_for_anonymous_callers(client):
    response = client.get("/api/no/such/route")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_pages_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/auth/validate"),
        ("put", "/api/sources"),
        ("post", "/api/schema"),
        ("patch", "/api/households/{household}/usage"),
    ],
)
def test_method_not_allowed_is_json_on_every_route(api, owner, household, method, path):
    response = getattr(api(owner), method)(path.format(household=household.pk))
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": f'Method "{method.upper()}" not allowed.',
        "code": "method_not_allowed",
    }
    assert "Allow" in response.headers


def test_a_host_not_served_is_a_json_400_under_the_api(client):
    response = client.get("/api/sources", HTTP_HOST="elsewhere.example.com")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}
    response = client.get("/account/sign-in/", HTTP_HOST="elsewhere.example.com")
    assert (response.status_code, response.headers["Content-Type"]) == (400, "text/html; charset=utf-8")


def test_a_body_over_djangos_limit_is_a_json_413(api, owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api(owner).post("/api/households", {"name": "x" * 2000, "timezone": "UTC"}, format="json")
    assert (response.status_code, response.json()) == (
        413,
        {"detail": "The body is larger than the server accepts.", "code": "too_large"},
    )
