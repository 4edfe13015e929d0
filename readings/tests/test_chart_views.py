import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from homelog.testing import assert_constant_queries
from readings.models import Reading
from readings.tests.factories import bulk_create_readings
from readings.tests.helpers import readings_committed
from sources.tests.factories import DataSourceFactory

BERLIN_WINTER = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2025, 3, 10, 11, 0, tzinfo=dt.UTC)


def berlin(day, hour=0, month=3):
    return dt.datetime(2025, month, day, hour, tzinfo=BERLIN_WINTER)


@pytest.fixture
def meter(household):
    """A meter read every hour on 9 March 2025 (Berlin), 1.5 kWh an hour, priced at 0.30."""
    source = DataSourceFactory(household=household, name="Electricity meter", price_per_unit="0.300000")
    bulk_create_readings(
        Reading(
            data_source=source, timestamp=berlin(9) + dt.timedelta(hours=h), values={"energy": 100 + 1.5 * h}
        )
        for h in range(25)
    )
    return source


@pytest.fixture
def thermometer(household):
    source = DataSourceFactory(household=household, name="Attic", instantaneous=True)
    bulk_create_readings(
        Reading(data_source=source, timestamp=berlin(day, hour), values={"temperature": value})
        for day, hour, value in [(3, 8, 18.0), (3, 20, 21.0), (5, 12, 19.5)]
    )
    return source


def chart_url(source, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{reverse('readings:usage-chart', args=[source.pk])}?{query}"


def signed_in(client, user):
    client.force_login(user)
    return client


def values_in(svg):
    return re.findall(r'<desc class="value">([^<]*)</desc>', svg)


@time_machine.travel(NOW, tick=False)
def test_the_chart_of_a_day_has_a_bar_per_hour(client, viewer, meter):
    response = signed_in(client, viewer).get(chart_url(meter, period="day", date="2025-03-09"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "private, no-cache"
    svg = response.content.decode()
    assert svg.startswith("<?xml")
    assert 'viewBox="0 0 880 340"' in svg
    assert values_in(svg) == ["1.5"] * 24
    assert ">00:00<" in svg and ">23:00<" in svg


@time_machine.travel(NOW, tick=False)
def test_the_small_chart_is_drawn_for_a_phone(client, owner, meter):
    svg = (
        signed_in(client, owner)
        .get(chart_url(meter, period="month", date="2025-03-01", size="small"))
        .content
    )
    svg = svg.decode()
    assert 'viewBox="0 0 420 300"' in svg
    # 31 days, of which only the 9th is known.
    assert values_in(svg) == ["36"]


@time_machine.travel(NOW, tick=False)
def test_a_level_is_drawn_as_average_lowest_and_highest(client, owner, thermometer):
    svg = (
        signed_in(client, owner)
        .get(chart_url(thermometer, period="week", date="2025-03-03"))
        .content.decode()
    )
    assert values_in(svg) == ["19.5", "19.5", "18", "19.5", "21", "19.5"]
    assert ">Average<" in svg and ">Lowest<" in svg and ">Highest<" in svg


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"size": "huge"}, 400),
        ({"period": "decade"}, 400),
        ({"metric": "power"}, 400),
        ({"date": "1066-10-14"}, 400),
    ],
)
def test_bad_chart_parameters_are_400(client, owner, meter, params, status):
    assert signed_in(client, owner).get(chart_url(meter, **params)).status_code == status


def test_an_outsider_cannot_see_the_chart(client, outsider, meter):
    assert signed_in(client, outsider).get(chart_url(meter)).status_code == 404


def test_the_chart_takes_the_same_queries_for_10_and_500_readings(client, owner, household):
    source = DataSourceFactory(household=household)
    signed_in(client, owner)

    def grow(n):
        start = Reading.objects.count()
        bulk_create_readings(
            Reading(
                data_source=source,
                timestamp=NOW - dt.timedelta(hours=start + i),
                values={"energy": 1e6 - start - i},
            )
            for i in range(n)
        )
        readings_committed()

    assert_constant_queries(client, chart_url(source, period="month"), grow, 10, 500)


# --- The source page's usage panel ---------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_source_page_shows_the_periods_use_cost_and_numbers(client, owner, meter):
    response = signed_in(client, owner).get(
        reverse("readings:source-detail", args=[meter.pk]) + "?period=day&date=2025-03-09"
    )

    html = response.content.decode()
    assert "<dt>Used</dt><dd>36 kWh</dd>" in html
    assert "<dt>Cost</dt><dd>10.80</dd>" in html
    assert '<span class="period-label" aria-live="polite">Sun 9 Mar 2025</span>' in html
    assert (
        f"{reverse('readings:usage-chart', args=[meter.pk])}?metric=energy&amp;period=day&amp;date=2025-03-09"
        in html
    )
    # The previous and next days, keeping the period.
    assert 'href="?period=day&amp;date=2025-03-08#usage"' in html
    assert 'href="?period=day&amp;date=2025-03-10#usage"' in html
    rows = response.context["rows"]
    assert [(label, bucket.consumption, bucket.cost) for label, bucket in rows[:2]] == [
        ("00:00", 1.5, 0.45),
        ("01:00", 1.5, 0.45),
    ]
    assert '<th scope="row">23:00</th>' in html


@time_machine.travel(NOW, tick=False)
def test_there_is_no_next_period_after_today(client, owner, meter):
    html = signed_in(client, owner).get(reverse("readings:source-detail", args=[meter.pk])).content.decode()
    assert '<span class="period-label" aria-live="polite">March 2025</span>' in html
    assert 'aria-label="Previous month: February 2025"' in html
    assert "Next month" not in html


@time_machine.travel(NOW, tick=False)
def test_a_levels_page_shows_average_lowest_and_highest(client, owner, thermometer):
    html = (
        signed_in(client, owner)
        .get(reverse("readings:source-detail", args=[thermometer.pk]) + "?period=week&date=2025-03-05")
        .content.decode()
    )
    assert "<dt>Average</dt><dd>19.5 °C</dd>" in html
    assert "<dt>Lowest</dt><dd>18 °C</dd>" in html
    assert "<dt>Highest</dt><dd>21 °C</dd>" in html
    assert '<span class="period-label" aria-live="polite">3\N{EN DASH}9 Mar 2025</span>' in html


@time_machine.travel(NOW, tick=False)
def test_the_period_picker_swaps_the_usage_panel_alone(client, owner, meter):
    response = signed_in(client, owner).get(
        reverse("readings:source-detail", args=[meter.pk]) + "?period=year",
        headers={"HX-Request": "true", "HX-Target": "usage"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel" id="usage"')
    assert "<!doctype html>" not in html
    assert "<dt>Used</dt><dd>36 kWh</dd>" in html
