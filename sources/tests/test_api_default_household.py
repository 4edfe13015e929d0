"""POST /api/sources without `household`, as clients of the original service (which had no households) send
it: the caller's only household where they may add sources, or a new one of their own."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Household, Membership, Role
from accounts.tests.factories import HouseholdFactory, MembershipFactory, UserFactory
from homelog.api.fixtures import bearer_client
from sources.models import DataSource

pytestmark = pytest.mark.django_db

BODY = {"name": "Test Source", "metrics": {"Energy": "btu"}}


def test_a_member_of_one_household_adds_to_it(api, member, household):
    response = api(member).post("/api/sources", BODY)
    assert response.status_code == 201
    assert response.json()["household"] == household.pk
    source = DataSource.objects.get()
    assert (source.household, source.created_by, source.units) == (household, member, {"Energy": "btu"})


def test_null_is_the_same_as_no_household(api, member, household):
    response = api(member).post("/api/sources", {**BODY, "household": None}, format="json")
    assert response.status_code == 201
    assert response.json()["household"] == household.pk


def test_households_where_the_caller_only_views_do_not_count(api, owner, household):
    MembershipFactory(user=owner, household=HouseholdFactory(name="Parents"), viewer=True)
    response = api(owner).post("/api/sources", BODY)
    assert response.status_code == 201
    assert response.json()["household"] == household.pk


def test_someone_in_no_household_gets_one_of_their_own(api):
    alexa = UserFactory(display_name="Alexa")
    response = api(alexa).post("/api/sources", BODY)
    assert response.status_code == 201
    home = Household.objects.get()
    assert response.json()["household"] == home.pk
    assert (home.name, home.timezone) == ("Alexa's home", settings.TIME_ZONE)
    assert list(Membership.objects.values_list("household", "user", "role")) == [
        (home.pk, alexa.pk, Role.OWNER)
    ]
    assert DataSource.objects.get().household == home
    # The next source goes to the same household.
    assert api(alexa).post("/api/sources", {"name": "Second"}).json()["household"] == home.pk
    assert Household.objects.count() == 1


def test_a_user_without_a_display_name_gets_a_home_named_after_their_address(api):
    user = UserFactory(display_name="", email="sally@example.com")
    assert api(user).post("/api/sources", BODY).status_code == 201
    assert Household.objects.get().name == "sally's home"


def test_a_very_long_display_name_still_makes_a_household_name(api):
    user = UserFactory(display_name="A" * 150)
    assert api(user).post("/api/sources", BODY).status_code == 201
    assert Household.objects.get().name == "A" * 113 + "'s home"


def test_a_source_that_is_invalid_makes_no_household(api):
    user = UserFactory()
    response = api(user).post("/api/sources", {"name": "", "metrics": {"id": "x"}})
    assert response.status_code == 400
    assert not Household.objects.exists()


def test_several_households_must_be_named(api, owner, household):
    second = HouseholdFactory(name="Cabin")
    MembershipFactory(user=owner, household=second)
    response = api(owner).post("/api/sources", BODY)
    assert response.status_code == 400
    message = (
        f"You can add sources to several households ({household.pk}, {second.pk}): "
        "say which one in 'household'."
    )
    assert response.json() == {
        "detail": f"Invalid input. household: {message}",
        "code": "invalid",
        "errors": {"household": [message]},
    }
    assert not DataSource.objects.exists()
    assert Household.objects.count() == 2


def test_a_viewer_only_user_is_refused_and_gets_no_household(api, viewer, household):
    response = api(viewer).post("/api/sources", BODY)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Viewers cannot add sources to a household.",
        "code": "permission_denied",
    }
    assert not DataSource.objects.exists()
    assert list(Household.objects.all()) == [household]


def _post_at_once(clients, bodies):
    """POST each body with its client, all at the same moment; return the status codes."""
    barrier = threading.Barrier(len(clients))
    statuses = []

    def post(client, body):
        barrier.wait()
        try:
            statuses.append(client.post("/api/sources", body).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=pair) for pair in zip(clients, bodies, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time anyway")
@pytest.mark.django_db(transaction=True)
def test_first_sources_sent_at_once_make_one_household():
    for _ in range(5):
        user = UserFactory()
        clients = [bearer_client(user) for _ in range(4)]
        statuses = _post_at_once(clients, [{"name": f"Meter {n}"} for n in range(4)])
        assert statuses == [201] * 4
        households = Household.objects.filter(memberships__user=user)
        assert households.count() == 1
        assert DataSource.objects.filter(created_by=user, household__in=households).count() == 4
