"""One rule for a register's increase, in every form: over random irregular readings with drops, random
intervals and time zones with daylight-saving changes, usage computed by SQL over the readings, by SQL over
the hourly rollups and by a plain Python reference written here agree, and the buckets add up to the
register's increase net of its resets."""

import datetime as dt
import itertools
import math
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.tests.factories import HouseholdFactory
from readings.services import ingest_readings
from readings.usage import calendar, rollup, sql
from readings.usage.increase import register_increase, register_increase_sql, register_increases
from readings.usage.spread import spread
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

# Zones with daylight-saving changes (one of them by half an hour), one without, and one whose offset is not
# a whole hour: there usage cannot use the rollups and reads the readings.
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"]
# Around the spring and autumn changes of 2025 in the northern and southern zones.
STARTS = [
    dt.datetime(2025, 3, 28, tzinfo=dt.UTC),
    dt.datetime(2025, 10, 24, tzinfo=dt.UTC),
    dt.datetime(2025, 4, 4, tzinfo=dt.UTC),
    dt.datetime(2025, 3, 7, tzinfo=dt.UTC),
]


def reference(readings, edges):
    """Consumption per bucket, the plain way: each pair of consecutive readings adds its rise (nothing when
    the register went down) to the buckets it spans, in proportion to the time it spends in each; a bucket
    no pair overlaps has None."""
    consumption = [None] * (len(edges) - 1)
    for (earlier_at, earlier), (later_at, later) in itertools.pairwise(readings):
        rise = later - earlier if later > earlier else 0.0
        for no in range(len(edges) - 1):
            lo, hi = max(edges[no], earlier_at), min(edges[no + 1], later_at)
            if lo < hi:
                share = rise * (hi - lo).total_seconds() / (later_at - earlier_at).total_seconds()
                consumption[no] = (consumption[no] or 0.0) + share
    return consumption


def computed(source, edges):
    return spread(sql.cumulative_stats([(source.pk, "energy")], [edges])[0, 0], edges).consumption


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


steps = st.lists(
    st.tuples(
        # Minutes to the next reading: from a minute to four days.
        st.integers(min_value=1, max_value=4 * 24 * 60),
        # What the register did: mostly rose, sometimes dropped (a meter replaced) or stayed.
        st.one_of(
            st.floats(min_value=0, max_value=500, allow_nan=False),
            st.floats(min_value=-10_000, max_value=0, allow_nan=False),
        ),
    ),
    min_size=1,
    max_size=24,
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from(ZONES),
    start=st.sampled_from(STARTS),
    first_value=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    steps=steps,
    interval=st.sampled_from(["hour", "day", "week", "month"]),
    margin_hours=st.integers(min_value=-30, max_value=30),
)
def test_usage_over_readings_over_rollups_and_the_reference_agree(
    monkeypatch, zone, start, first_value, steps, interval, margin_hours
):
    tz = zoneinfo.ZoneInfo(zone)
    source = DataSourceFactory(household=HouseholdFactory(timezone=zone))
    readings = [(start, first_value)]
    for minutes, change in steps:
        readings.append((readings[-1][0] + dt.timedelta(minutes=minutes), max(readings[-1][1] + change, 0.0)))
    result = ingest_readings(
        source, [{"timestamp": moment, "values": {"energy": value}} for moment, value in readings]
    )
    assert (result.created, result.errors) == (len(readings), {})

    # A range that may start before, or after, the first reading, and end before or after the last.
    margin = dt.timedelta(hours=margin_hours)
    lo = calendar.floor_edge(readings[0][0] + margin, interval, tz)
    hi = calendar.next_edge(readings[-1][0] - margin, interval, tz)
    if lo >= hi:
        hi = calendar.next_edge(lo, interval, tz)
    try:
        edges = calendar.bucket_edges(lo, hi, interval, tz, settings.USAGE_MAX_BUCKETS)
    except calendar.RangeError:
        assume(False)  # more hours than usage computes at once

    expected = reference(readings, edges)
    forms = {"readings": None, "rollups": None}
    with monkeypatch.context() as patch:
        patch.setattr(rollup, "covers", lambda edges: False)
        forms["readings"] = computed(source, edges)
    if rollup.covers(edges):
        forms["rollups"] = computed(source, edges)
    else:
        assert zone in ("Asia/Kolkata", "Australia/Lord_Howe")

    for name, found in forms.items():
        if found is not None:
            assert all(map(close, found, expected)), (name, found, expected)
    if edges[0] <= readings[0][0] and readings[-1][0] <= edges[-1]:
        # The range holds every reading: its buckets add up to every rise of the register.
        total = sum(register_increase(a, b) for (_, a), (_, b) in itertools.pairwise(readings))
        assert close(sum(value or 0.0 for value in forms["readings"]), total)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=30))
def test_the_forms_of_an_increase_in_python_agree(values):
    one_by_one = [register_increase(a, b) for a, b in itertools.pairwise(values)]
    assert list(register_increases(values)) == [increase for increase in one_by_one if increase]
    assert all(increase >= 0 for increase in one_by_one)


@hypothesis_settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
    st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
)
def test_the_sql_form_of_an_increase_is_the_python_one(earlier, later):
    double = "REAL" if connection.vendor == "sqlite" else "double precision"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {register_increase_sql('a', 'b')}"
            f" FROM (SELECT CAST(%s AS {double}) AS a, CAST(%s AS {double}) AS b) t",
            [earlier, later],
        )
        assert float(cursor.fetchone()[0]) == register_increase(earlier, later)
