"""The home page lists every household of the user with its sources and this month's use: a fixed number of
queries whatever the number of households, sources and readings."""

import datetime as dt

import time_machine

from accounts.models import Role
from accounts.tests.factories import HouseholdFactory, MembershipFactory, UserFactory
from homelog.testing import queries_to_get
from readings.models import Reading
from readings.tests.factories import bulk_create_readings
from readings.tests.helpers import readings_committed
from sources.tests.factories import DataSourceFactory

NOW = dt.datetime(2025, 3, 10, 11, 0, tzinfo=dt.UTC)
# Households in zones of their own: each has its own month and its own hours.
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney", "Europe/London"]


def home_with(client, user, households, sources_each, days_ago=(40, 39, 38)):
    homes = [HouseholdFactory(name=f"Home {n}", timezone=ZONES[n]) for n in range(households)]
    for n, home in enumerate(homes):
        MembershipFactory(household=home, user=user, role=Role.OWNER if n % 2 == 0 else Role.VIEWER)
        for _ in range(sources_each):
            source = DataSourceFactory(household=home, price_per_unit="0.25")
            bulk_create_readings(
                Reading(
                    data_source=source,
                    timestamp=NOW - dt.timedelta(days=days),
                    values={"energy": 10.0 * number},
                )
                for number, days in enumerate(days_ago)
            )
            DataSourceFactory(household=home, instantaneous=True)
    readings_committed()
    client.force_login(user)
    return queries_to_get(client, "/")


@time_machine.travel(NOW, tick=False)
def test_home_takes_the_same_queries_for_1_and_6_households_of_2_and_20_sources(client, db):
    counts = {
        (households, sources_each): home_with(client, UserFactory(), households, sources_each)
        for households, sources_each in [(1, 2), (6, 2), (1, 20), (6, 20)]
    }

    assert set(counts.values()) == {counts[1, 2]}, counts
    # The session, the user, the invitations to the user, the households, the sources, the sources' readings
    # versions, the usage (one query in a savepoint, after turning JIT off on PostgreSQL), and keeping it in
    # the database cache.
    assert counts[1, 2] <= 16


@time_machine.travel(NOW, tick=False)
def test_home_shows_this_months_use_of_every_household_in_its_own_month(client, db):
    user = UserFactory()
    home_with(client, user, 2, 1, days_ago=(3, 2, 1))

    html = client.get("/").content.decode()

    assert html.count("<dt>Cost since 1 March</dt>") == 2
    figure = '<strong>20</strong> <span class="unit">kWh</span> <span class="cost">· 5.00</span>'
    assert html.count(figure) == 2
