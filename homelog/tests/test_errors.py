import pytest
from django.db import OperationalError
from django.test import RequestFactory

from homelog.errors import server_error

pytestmark = pytest.mark.urls("homelog.tests.urls_for_tests")


@pytest.fixture
def client(client):
    client.raise_request_exception = False
    return client


def test_a_page_error_shows_nothing_of_the_internals(client, db):
    response = client.get("/broken")
    assert response.status_code == 500
    body = response.content.decode()
    assert "<h1>Something went wrong</h1>" in body
    assert "secret internals" not in body
    assert "Traceback" not in body


def test_an_api_error_is_json_without_internals(client, db):
    response = client.get("/api/broken")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}


def test_a_database_outage_is_a_503_with_a_json_reason(client, db):
    response = client.get("/api/database-away")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The database is unavailable at the moment; please try again shortly."
    }


def test_a_database_outage_outside_a_view_is_a_503_too(db):
    request = RequestFactory().get("/admin/")
    try:
        raise OperationalError("the server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
