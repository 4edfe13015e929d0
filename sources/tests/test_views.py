import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import HouseholdFactory, MembershipFactory
from homelog.testing import assert_constant_queries
from readings import selectors
from readings.models import Reading
from readings.tests.factories import ReadingFactory, bulk_create_readings
from readings.tests.helpers import readings_committed
from sources.models import DataSource, SourceType
from sources.tests.factories import DataSourceFactory

NOW = dt.datetime(2025, 3, 10, 11, 0, tzinfo=dt.UTC)
HOME = "/"


def signed_in(client, user):
    client.force_login(user)
    return client


def hours_before_now(hours):
    return NOW - dt.timedelta(hours=hours)


def hourly(source, n, start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), **fields):
    """n readings of `source`, one an hour from `start`."""
    return bulk_create_readings(
        Reading(
            data_source=source, timestamp=start + dt.timedelta(hours=i), values={"energy": float(i)}, **fields
        )
        for i in range(n)
    )


# --- Home ---------------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_home_lists_each_source_with_its_latest_reading_and_age(client, owner, household):
    meter = DataSourceFactory(household=household, name="Electricity meter", type=SourceType.ELECTRICITY)
    ReadingFactory(data_source=meter, timestamp=hours_before_now(5), values={"energy": 1000})
    ReadingFactory(data_source=meter, timestamp=hours_before_now(3), values={"energy": 12345.678})
    DataSourceFactory(household=household, name="Attic", instantaneous=True)

    response = signed_in(client, owner).get(HOME)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<h2 id="household-{household.pk}-name">Home</h2>' in html
    assert '<dd>12,345.678 <span class="unit">kWh</span></dd>' in html
    assert (
        'Read <time datetime="2025-03-10T08:00:00+00:00" title="10 Mar 2025, 09:00">3\xa0hours ago</time>'
        in html
    )
    assert "No readings yet." in html  # the attic sensor
    assert html.count("Add reading<span") == 2
    assert reverse("accounts:household-settings", args=[household.pk]) in html


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("gap_hours", "readings", "quiet"),
    [
        (20, 1, False),  # one reading: quiet after the minimum of a week
        (24 * 8, 1, True),
        (23, 10, False),  # read hourly: quiet after a day (the minimum), not after 3 hours
        (25, 10, True),
    ],
)
def test_a_source_not_read_for_a_while_gets_a_hint(client, owner, household, gap_hours, readings, quiet):
    meter = DataSourceFactory(household=household)
    for i in range(readings):
        ReadingFactory(
            data_source=meter, timestamp=hours_before_now(gap_hours + i), values={"energy": 100 - i}
        )

    html = signed_in(client, owner).get(HOME).content.decode()

    assert ("time to check the meter?" in html) is quiet


@time_machine.travel(NOW, tick=False)
def test_a_meter_read_weekly_is_quiet_only_after_three_weeks(client, owner, household):
    meter = DataSourceFactory(household=household)
    for week in range(10):
        ReadingFactory(
            data_source=meter, timestamp=hours_before_now(24 * (20 + 7 * week)), values={"energy": 10 - week}
        )
    client = signed_in(client, owner)

    assert "time to check the meter?" not in client.get(HOME).content.decode()

    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        html = client.get(HOME).content.decode()
    assert "No reading for 3\xa0weeks — time to check the meter?" in html


def test_viewers_see_readings_but_no_add_button_or_settings(client, viewer, household):
    DataSourceFactory(household=household, name="Gas")

    html = signed_in(client, viewer).get(HOME).content.decode()

    assert "Gas" in html
    assert "Add reading" not in html
    assert reverse("accounts:household-settings", args=[household.pk]) not in html


def test_home_shows_only_the_users_own_households(client, owner, household, other_household):
    DataSourceFactory(household=household, name="Our meter")
    DataSourceFactory(household=other_household, name="Their meter")

    html = signed_in(client, owner).get(HOME).content.decode()

    assert "Our meter" in html
    assert "Their meter" not in html
    assert "Elsewhere" not in html


def test_someone_in_no_household_is_told_what_to_do(client, django_user_model):
    user = django_user_model.objects.create_user("new@example.com", "pw")
    html = signed_in(client, user).get(HOME).content.decode()
    assert "You do not belong to a household yet." in html


def test_home_needs_a_signed_in_user(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.url == "/account/sign-in/?next=/"


def test_home_takes_the_same_queries_for_2_and_40_sources(client, owner, household):
    signed_in(client, owner)
    second = HouseholdFactory(name="Cabin")
    MembershipFactory(household=second, user=owner, role=Role.VIEWER)

    def grow(n):
        for i in range(n):
            source = DataSourceFactory(household=household if i % 2 else second)
            ReadingFactory.create_batch(3, data_source=source)
        readings_committed()

    assert_constant_queries(client, HOME, grow, small=2, large=40)


# --- Source page ----------------------------------------------------------------------------------------


@pytest.fixture
def meter(household):
    return DataSourceFactory(household=household, name="Electricity meter", price_per_unit="0.320000")


def detail_url(source, **params):
    url = reverse("readings:source-detail", args=[source.pk])
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def test_a_source_without_readings_shows_an_empty_state_not_empty_axes(client, member, owner, viewer, meter):
    client.force_login(owner)
    page = client.get(detail_url(meter)).content.decode()
    assert "No readings yet." in page
    assert '<figure class="chart">' not in page
    for url in (
        reverse("readings:reading-create", args=[meter.pk]),
        reverse("readings:reading-import", args=[meter.pk]),
        reverse("sources:token-list", args=[meter.pk]),
    ):
        assert f'href="{url}"' in page
    # A member adds readings but gives no tokens; a viewer is only told.
    client.force_login(member)
    page = client.get(detail_url(meter)).content.decode()
    assert "Give a device a token" not in page and "Add a reading</a>" in page
    client.force_login(viewer)
    page = client.get(detail_url(meter)).content.decode()
    assert "No readings yet." in page and "Add a reading</a>" not in page
    ReadingFactory(data_source=meter)
    assert '<figure class="chart">' in client.get(detail_url(meter)).content.decode()


def test_each_reading_shows_what_was_used_and_what_it_cost_since_the_one_before(client, member, meter):
    # The page's oldest reading looks one further back; a meter replaced (a drop) counts as nothing used.
    for hour, value in enumerate([100.0, 112.5, 120.0, 3.0, 5.25]):
        ReadingFactory(
            data_source=meter,
            timestamp=dt.datetime(2025, 3, 9, hour, tzinfo=dt.UTC),
            values={"energy": value},
        )
    page = selectors.readings_page(meter, member, size=4)
    assert [reading.since for reading in page.rows] == [
        {"energy": (2.25, Decimal("0.720000"))},
        {"energy": (0.0, Decimal("0.000000"))},
        {"energy": (7.5, Decimal("2.400000"))},
        {"energy": (12.5, Decimal("4.000000"))},
    ]
    html = signed_in(client, member).get(detail_url(meter)).content.decode()
    assert '<span class="muted since" title="since the reading before">+12.5 · 4.00</span>' in html
    # The first reading of all has nothing before it.
    first = selectors.readings_page(meter, member, before=dt.datetime(2025, 3, 9, 1, tzinfo=dt.UTC))
    assert [reading.since for reading in first.rows] == [{}]


def test_the_source_page_lists_readings_newest_first_in_local_time(client, member, owner, meter):
    ReadingFactory(
        data_source=meter,
        timestamp=dt.datetime(2025, 3, 9, 7, 0, tzinfo=dt.UTC),
        values={"energy": 1},
        created_by=owner,
    )
    ReadingFactory(
        data_source=meter,
        timestamp=dt.datetime(2025, 3, 9, 8, 0, tzinfo=dt.UTC),
        values={"energy": 2.5},
        created_by=member,
    )

    response = signed_in(client, member).get(detail_url(meter))

    assert response.status_code == 200
    rows = response.context["page"].rows
    assert [r.values for r in rows] == [{"energy": 2.5}, {"energy": 1}]
    html = response.content.decode()
    # Berlin is UTC+1 in March.
    assert html.index("9 Mar 2025, 09:00") < html.index("9 Mar 2025, 08:00")
    assert "0.32 per kWh" in html
    # A member may change the reading they added, not the owner's.
    assert [r.user_can_change for r in rows] == [True, False]
    assert html.count("Edit<span") == 1
    assert reverse("readings:reading-update", args=[rows[0].pk]) in html
    assert reverse("readings:reading-update", args=[rows[1].pk]) not in html


def test_owners_may_change_every_reading_and_viewers_none(client, owner, viewer, member, meter):
    ReadingFactory.create_batch(3, data_source=meter, created_by=member)

    owner_rows = signed_in(client, owner).get(detail_url(meter)).context["page"].rows
    viewer_page = signed_in(client, viewer).get(detail_url(meter))

    assert [r.user_can_change for r in owner_rows] == [True, True, True]
    assert [r.user_can_change for r in viewer_page.context["page"].rows] == [False, False, False]
    assert "Add reading" not in viewer_page.content.decode()
    assert "Edit<span" not in viewer_page.content.decode()


def test_readings_are_paged_by_time(client, owner, meter):
    hourly(meter, 120)
    client = signed_in(client, owner)

    first = client.get(detail_url(meter)).context["page"]
    assert len(first.rows) == 25
    assert first.rows[0].timestamp == dt.datetime(2025, 1, 5, 23, tzinfo=dt.UTC)
    assert first.newer_than is None
    assert first.older_than == dt.datetime(2025, 1, 4, 23, tzinfo=dt.UTC)

    second = client.get(detail_url(meter, before="2025-01-04T23:00:00%2B00:00")).context["page"]
    assert second.rows[0].timestamp == dt.datetime(2025, 1, 4, 22, tzinfo=dt.UTC)
    assert second.newer_than == dt.datetime(2025, 1, 4, 22, tzinfo=dt.UTC)

    last = client.get(detail_url(meter, before="2025-01-01T20:00:00%2B00:00")).context["page"]
    assert [r.timestamp.hour for r in last.rows] == list(range(19, -1, -1))
    assert last.older_than is None

    back = client.get(detail_url(meter, after="2025-01-04T22:00:00%2B00:00")).context["page"]
    assert [r.timestamp for r in back.rows] == [r.timestamp for r in first.rows]
    assert back.newer_than is None


def test_the_pager_links_carry_the_cursor(client, owner, meter):
    hourly(meter, 60)
    html = signed_in(client, owner).get(detail_url(meter, period="week")).content.decode()
    assert '?period=week&amp;before=2025-01-02T11%3A00%3A00%2B00%3A00#readings">Older →</a>' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"before": "yesterday"}, "before must be an ISO 8601 date and time."),
        ({"after": "2025-01-01T00:00:00"}, "after must include a UTC offset."),
        ({"period": "fortnight"}, "period must be one of day, week, month, year."),
        ({"date": "2025-02-30"}, "date must be a date like 2025-03-10."),
        ({"metric": "power"}, "This source has no metric &#x27;power&#x27;."),
    ],
)
def test_a_bad_address_is_a_400_that_says_what_is_wrong(client, owner, meter, params, message):
    response = signed_in(client, owner).get(detail_url(meter, **params))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_another_households_source_is_404(client, outsider, meter):
    assert signed_in(client, outsider).get(detail_url(meter)).status_code == 404


def test_the_source_page_takes_the_same_queries_for_10_and_500_readings(client, member, meter):
    signed_in(client, member)

    def grow(n):
        ReadingFactory.create_batch(n, data_source=meter, created_by=member)
        readings_committed()

    assert_constant_queries(
        client,
        detail_url(meter),
        grow,
        10,
        500,
    )


def test_an_older_page_takes_the_same_queries_too(client, member, meter):
    signed_in(client, member)
    url = detail_url(meter, before="2030-01-01T00:00:00%2B00:00")

    def grow(n):
        ReadingFactory.create_batch(n, data_source=meter)
        readings_committed()

    assert_constant_queries(client, url, grow, 10, 500)


# --- Creating and changing sources -------------------------------------------------------------------


def metric_rows(*rows, initial=0):
    data = {"metrics-TOTAL_FORMS": str(len(rows)), "metrics-INITIAL_FORMS": str(initial)}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"metrics-{i}-{key}"] = value
    return data


def source_data(**overrides):
    return {
        "name": "Gas meter",
        "type": "gas",
        "description": "",
        "price_per_unit": "1.15",
        "is_active": "on",
    } | overrides


def test_an_owner_creates_a_source(client, owner, household):
    url = reverse("sources:source-create", args=[household.pk])
    client = signed_in(client, owner)
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        source_data()
        | metric_rows(
            {"name": "volume", "unit": "m³", "kind": "cumulative"},
            {"name": "", "unit": "", "kind": "cumulative"},  # the empty row for one more
        ),
    )

    source = DataSource.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("readings:source-detail", args=[source.pk])
    assert (source.household, source.name, source.type, source.created_by) == (
        household,
        "Gas meter",
        "gas",
        owner,
    )
    assert source.metrics == {"volume": {"unit": "m³", "cumulative": True}}
    assert str(source.price_per_unit) == "1.150000"


@pytest.mark.parametrize(
    ("rows", "errors"),
    [
        (
            [{"name": "Volume/h", "unit": "m³", "kind": "cumulative"}],
            {
                0: {
                    "name": [
                        "Metric name 'Volume/h' has '/', which a metric name cannot have: use 1-64 letters, "
                        "digits, spaces, '_', '-' or '.'."
                    ]
                }
            },
        ),
        (
            [{"name": "v" * 65, "unit": "m³", "kind": "cumulative"}],
            {0: {"name": [f"Metric name '{'v' * 65}' is too long: 65 characters, at most 64."]}},
        ),
        (
            [{"name": "Timestamp", "unit": "s", "kind": "instantaneous"}],
            {
                0: {
                    "name": [
                        "Metric name 'Timestamp' is reserved: every reading has an 'id' and a 'timestamp' "
                        "column in CSV."
                    ]
                }
            },
        ),
        (
            [
                {"name": "volume", "unit": "m³", "kind": "cumulative"},
                {"name": "volume", "unit": "l", "kind": "cumulative"},
            ],
            "Metric name 'volume' is used twice.",
        ),
        (
            [
                {"name": "Volume", "unit": "m³", "kind": "cumulative"},
                {"name": "volume", "unit": "l", "kind": "cumulative"},
            ],
            "Metric names 'Volume' and 'volume' differ only in case: keep one of them.",
        ),
        (
            [{"name": "", "unit": "", "kind": "cumulative"}],
            'A data source needs at least one metric, e.g. {"energy": {"unit": "kWh"}}.',
        ),
    ],
)
def test_bad_metrics_are_refused_with_a_reason(client, owner, household, rows, errors):
    response = signed_in(client, owner).post(
        reverse("sources:source-create", args=[household.pk]), source_data() | metric_rows(*rows)
    )
    assert response.status_code == 400
    formset = response.context["metrics"]
    if isinstance(errors, str):
        assert formset.non_form_errors() == [errors]
    else:
        assert {i: f.errors for i, f in enumerate(formset.forms) if f.errors} == errors
    assert DataSource.objects.count() == 0


def test_metric_names_keep_their_case_and_units_may_be_empty(client, owner, household):
    response = signed_in(client, owner).post(
        reverse("sources:source-create", args=[household.pk]),
        source_data(type="other")
        | metric_rows(
            {"name": "High", "unit": "°C", "kind": "instantaneous"},
            {"name": "Energy use 2.0", "unit": "", "kind": "cumulative"},
            {"name": "", "unit": "", "kind": "cumulative"},
        ),
    )
    assert response.status_code == 302
    assert DataSource.objects.get().metrics == {
        "High": {"unit": "°C", "cumulative": False},
        "Energy use 2.0": {"unit": "", "cumulative": True},
    }


def test_a_negative_price_is_refused(client, owner, household):
    response = signed_in(client, owner).post(
        reverse("sources:source-create", args=[household.pk]),
        source_data(price_per_unit="-1")
        | metric_rows({"name": "volume", "unit": "m³", "kind": "cumulative"}),
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "price_per_unit": ["Ensure this value is greater than or equal to 0."]
    }


def test_an_owner_changes_units_adds_and_removes_unused_metrics(client, owner, meter):
    ReadingFactory(data_source=meter, values={"energy": 1})
    meter.metrics = meter.metrics | {"spare": {"unit": "x", "cumulative": False}}
    meter.save()
    url = reverse("sources:source-update", args=[meter.pk])
    client = signed_in(client, owner)
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="0.32"' in page.content.decode()

    response = client.post(
        url,
        source_data(name="Main meter", type="electricity", price_per_unit="0.35")
        | metric_rows(
            {"name": "energy", "unit": "Wh", "kind": "cumulative"},
            {"name": "spare", "unit": "x", "kind": "instantaneous", "DELETE": "on"},
            {"name": "power", "unit": "W", "kind": "instantaneous"},
            initial=2,
        ),
    )

    assert response.status_code == 302
    meter.refresh_from_db()
    assert meter.name == "Main meter"
    assert meter.metrics == {
        "energy": {"unit": "Wh", "cumulative": True},
        "power": {"unit": "W", "cumulative": False},
    }


def test_a_metric_that_readings_use_cannot_be_removed_or_renamed(client, owner, meter):
    ReadingFactory(data_source=meter, values={"energy": 1})
    response = signed_in(client, owner).post(
        reverse("sources:source-update", args=[meter.pk]),
        source_data() | metric_rows({"name": "power", "unit": "W", "kind": "instantaneous"}, initial=1),
    )
    assert response.status_code == 400
    assert response.context["metrics"].non_form_errors() == [
        "Readings of this source have values for energy: keep that metric (you can change the unit)."
    ]
    meter.refresh_from_db()
    assert meter.metrics == {"energy": {"unit": "kWh", "cumulative": True}}


def test_only_owners_change_sources(client, member, viewer, outsider, meter, household):
    for user, status in ((member, 403), (viewer, 403), (outsider, 404)):
        client = signed_in(client, user)
        assert client.get(reverse("sources:source-update", args=[meter.pk])).status_code == status
        assert (
            client.post(reverse("sources:source-update", args=[meter.pk]), source_data()).status_code
            == status
        )
        assert client.get(reverse("sources:source-create", args=[household.pk])).status_code == status
        assert (
            client.post(reverse("sources:source-create", args=[household.pk]), source_data()).status_code
            == status
        )
    meter.refresh_from_db()
    assert meter.name == "Electricity meter"
    assert DataSource.objects.count() == 1


def test_the_source_form_takes_the_same_queries_however_many_readings(client, owner, meter):
    signed_in(client, owner)
    url = reverse("sources:source-update", args=[meter.pk])
    assert_constant_queries(client, url, lambda n: ReadingFactory.create_batch(n, data_source=meter), 10, 300)
    assert Reading.objects.count() == 300


# --- This month's usage on the home page -------------------------------------------------------------


def berlin(month, day, hour=0, year=2025):
    return dt.datetime(year, month, day, hour, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@time_machine.travel(NOW, tick=False)  # 10 March 2025, 12:00 in Berlin
def test_home_compares_this_month_with_the_same_days_of_last_month_and_last_year(client, owner, household):
    meter = DataSourceFactory(household=household, name="Electricity meter", price_per_unit="0.300000")
    for moment, value in [
        (berlin(2, 1), 0),
        (berlin(2, 10, 12), 60),  # 60 kWh in the same days of February
        (berlin(3, 1), 100),
        (berlin(3, 10), 190),  # 90 kWh this month so far
    ]:
        ReadingFactory(data_source=meter, timestamp=moment, values={"energy": value})
    solar = DataSourceFactory(household=household, name="Roof", type=SourceType.SOLAR)
    for moment, value in [
        (berlin(2, 1), 0),
        (berlin(2, 10, 12), 50),
        (berlin(3, 1), 60),
        (berlin(3, 10), 100),
    ]:
        ReadingFactory(data_source=solar, timestamp=moment, values={"energy": value})

    html = signed_in(client, owner).get(HOME).content.decode()

    assert "used since 1 Mar</h4>" in html
    assert '<strong>90</strong> <span class="unit">kWh</span> <span class="cost">· 27.00</span>' in html
    assert (
        '<span class="change change--bad"><span aria-hidden="true">▲</span> 50% more than Feb</span>' in html
    )
    assert '<span class="change change--flat">No data for Mar 2024</span>' in html
    # More from the solar roof is good news.
    assert "produced since 1 Mar</h4>" in html
    assert (
        '<span class="change change--bad"><span aria-hidden="true">▼</span> 20% less than Feb</span>' in html
    )
    # The household's cost: this month, the same days of February, and no data a year ago.
    assert "<dt>Cost since 1 March</dt>\n          <dd>27.00</dd>" in html
    assert "18.00" in html and "▲</span> 50% more than then" in html


@time_machine.travel(NOW, tick=False)
def test_costs_carry_the_configured_currency(client, owner, household, settings):
    settings.CURRENCY_SYMBOL = "€"
    meter = DataSourceFactory(household=household, price_per_unit="0.500000")
    ReadingFactory(data_source=meter, timestamp=berlin(3, 1), values={"energy": 0})
    ReadingFactory(data_source=meter, timestamp=berlin(3, 2), values={"energy": 2469.1})

    html = signed_in(client, owner).get(HOME).content.decode()

    assert '<span class="cost">· €1,234.55</span>' in html
