"""Ids in paths beyond what the database can hold: the object does not exist, on every route (a 404)."""

import pytest

from homelog.tests.routes import INTEGER_GROUP, api_routes, path_of
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

# Both databases keep ids in 64-bit signed integers.
LARGEST_ID = 2**63 - 1
TOO_LARGE = ["9223372036854775808", "40096420822438169033772202023", "9" * 400]


ID_ROUTES = [(regex, name) for regex, name in api_routes() if INTEGER_GROUP.search(regex)]


def test_the_walk_finds_the_routes_with_ids():
    names = {name for _, name in ID_ROUTES}
    assert {"source-detail", "source-reading-list", "source-token-detail", "household-detail"} <= names
    assert {"member-detail", "user-detail", "household-usage", "source-readings-bulk"} <= names


@pytest.fixture
def known(owner, household):
    """A value for each named group that names an object the owner can see."""
    source = DataSourceFactory(household=household)
    reading = ReadingFactory(data_source=source)
    return {
        "pk": str(source.pk),
        "source_pk": str(source.pk),
        "household_pk": str(household.pk),
        "user_id": str(owner.pk),
        "reading": str(reading.pk),
    }


def paths_with(regex, known, too_large):
    """The route's path once for each integer group, that group too large and every other one known."""
    for wrong in INTEGER_GROUP.findall(regex):
        yield path_of(regex, {**known, wrong: too_large}, known["reading"])


@pytest.mark.parametrize(("regex", "name"), ID_ROUTES, ids=[name for _, name in ID_ROUTES])
@pytest.mark.parametrize("too_large", TOO_LARGE, ids=["2**63", "29-digits", "400-digits"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_id_beyond_the_database_is_not_found(api, owner, known, regex, name, too_large, method):
    for path in paths_with(regex, known, too_large):
        response = getattr(api(owner), method)(path, {}, format="json")
        assert (response.status_code, response.json()) == (
            404,
            {"detail": "Not found.", "code": "not_found"},
        ), path


def test_the_largest_id_is_an_ordinary_unknown_one(api, owner, known):
    response = api(owner).get(f"/api/sources/{LARGEST_ID}/readings")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "code": "not_found"})
    response = api(owner).get(f"/api/sources/{known['source_pk']}/readings")
    assert response.status_code == 200


def test_a_page_with_an_id_beyond_the_database_is_the_404_page(client, owner, known):
    client.force_login(owner)
    for path in (f"/sources/{TOO_LARGE[1]}/", f"/sources/{TOO_LARGE[1]}/chart.svg"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"].startswith("text/html")
