import datetime as dt
import itertools
from io import StringIO

import time_machine
from django.core.management import call_command

from accounts.models import Household, Membership, Role, User
from readings.models import Reading
from sources.models import DataSource

NOW = dt.datetime(2025, 3, 10, 11, 30, tzinfo=dt.UTC)


def seed(days=14):
    out = StringIO()
    call_command("seed_demo", days=days, stdout=out)
    return out.getvalue()


def counts():
    return {
        source.name: Reading.objects.of_source(source).count()
        for source in DataSource.objects.filter(household__name="Demo household")
    }


@time_machine.travel(NOW, tick=False)
def test_seed_demo_builds_a_household_and_prints_its_login(db):
    output = seed()

    assert "Sign in with demo@example.com / homelog-demo (also an admin at /admin/)." in output
    demo = User.objects.get(email="demo@example.com")
    assert demo.check_password("homelog-demo") and demo.is_staff
    household = Household.objects.get(name="Demo household")
    assert household.timezone == "Europe/Berlin"
    assert dict(Membership.objects.filter(household=household).values_list("user__email", "role")) == {
        "demo@example.com": Role.OWNER,
        "sam@example.com": Role.MEMBER,
    }
    hourly = 14 * 24
    by_source = counts()
    assert by_source["Electricity meter"] == hourly
    assert by_source["Solar inverter"] == hourly
    assert by_source["Living room"] == hourly
    # Read by hand: the water meter most mornings, the gas meter every few days.
    assert 8 <= by_source["Water meter"] <= 14
    assert 2 <= by_source["Gas meter"] <= 8
    assert f"({sum(by_source.values()):,} new readings)" in output


@time_machine.travel(NOW, tick=False)
def test_meters_only_count_up_except_when_the_water_meter_is_replaced(db):
    seed(days=30)
    for source in DataSource.objects.filter(type__in=["electricity", "gas", "solar", "water"]):
        metric = source.metric_names[0]
        values = [r.values[metric] for r in Reading.objects.of_source(source).order_by("timestamp")]
        drops = [(a, b) for a, b in itertools.pairwise(values) if b < a]
        if source.type == "water":
            assert len(drops) == 1 and drops[0][1] < 1, drops
        else:
            assert drops == [], source.name
    # Solar produces nothing at night.
    solar = DataSource.objects.get(type="solar")
    night = Reading.objects.of_source(solar).filter(timestamp__hour__in=[0, 1, 2]).order_by("timestamp")
    assert len({r.values["energy"] for r in night if r.timestamp.date() == night[0].timestamp.date()}) == 1


def test_running_it_again_stores_nothing_twice_and_catches_up_with_the_clock(db):
    with time_machine.travel(NOW, tick=False):
        seed()
        first = counts()
        assert "(0 new readings)" in seed()
        assert counts() == first
    with time_machine.travel(NOW + dt.timedelta(hours=5), tick=False):
        seed()
    later = counts()
    assert later["Electricity meter"] == first["Electricity meter"] + 5
    assert later["Living room"] == first["Living room"] + 5
    electricity = DataSource.objects.get(name="Electricity meter")
    values = [r.values["energy"] for r in Reading.objects.of_source(electricity).order_by("timestamp")]
    assert values == sorted(values)
