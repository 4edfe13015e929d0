import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from homelog.testing import assert_constant_queries
from readings.models import Reading
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

BERLIN = dt.timezone(dt.timedelta(hours=1))  # Europe/Berlin in winter
NOW = dt.datetime(2025, 3, 10, 11, 34, 56, tzinfo=dt.UTC)


@pytest.fixture
def meter(household):
    return DataSourceFactory(household=household, name="Electricity")


@pytest.fixture
def two_metrics(household):
    return DataSourceFactory(
        household=household,
        name="Heat pump",
        metrics={
            "energy": {"unit": "kWh", "cumulative": True},
            "flow_temperature": {"unit": "°C", "cumulative": False},
        },
    )


def signed_in(client, user):
    client.force_login(user)
    return client


def add_url(source):
    return reverse("readings:reading-create", args=[source.pk])


def at(day, hour, minute=0):
    """A Berlin wall-clock time in March 2025 (UTC+1), as an aware datetime."""
    return dt.datetime(2025, 3, day, hour, minute, tzinfo=BERLIN)


# --- Add a reading: the form ------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_form_starts_at_now_in_the_household_time_zone_and_shows_the_last_value(client, owner, meter):
    ReadingFactory(data_source=meter, timestamp=at(9, 8, 15), values={"energy": 1234.5})
    ReadingFactory(data_source=meter, timestamp=at(8, 8), values={"energy": 1200})

    response = signed_in(client, owner).get(add_url(meter))

    assert response.status_code == 200
    html = response.content.decode()
    # 11:34 UTC is 12:34 in Berlin; seconds are dropped.
    assert 'value="2025-03-10T12:34"' in html
    assert 'inputmode="decimal"' in html
    assert "Last: <strong>1,234.5 kWh</strong>, 9 Mar 2025, 08:15 (1\xa0day ago)" in html
    assert 'aria-describedby="id_metric_energy_helptext"' in html
    assert 'name="metric_energy"' in html and "autofocus" in html
    # The confirmation appears only when a value needs it.
    assert 'name="meter_replaced"' not in html


def test_each_metric_shows_its_own_last_value(client, owner, two_metrics):
    ReadingFactory(data_source=two_metrics, timestamp=at(9, 8), values={"energy": 10, "flow_temperature": 35})
    ReadingFactory(data_source=two_metrics, timestamp=at(9, 9), values={"energy": 11})

    html = signed_in(client, owner).get(add_url(two_metrics)).content.decode()

    assert "Last: <strong>11 kWh</strong>, 9 Mar 2025, 09:00" in html
    assert "Last: <strong>35 °C</strong>, 9 Mar 2025, 08:00" in html


def test_a_source_without_readings_says_so(client, owner, meter):
    html = signed_in(client, owner).get(add_url(meter)).content.decode()
    assert "No earlier value." in html


# --- Add a reading: storing ---------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_member_adds_a_reading_in_local_time(client, member, meter):
    response = signed_in(client, member).post(
        add_url(meter), {"timestamp": "2025-03-10T07:30", "metric_energy": "1 234,5"}
    )

    assert response.status_code == 302
    assert response.url == reverse("readings:source-detail", args=[meter.pk])
    reading = Reading.objects.get()
    assert reading.data_source == meter
    # 07:30 in Berlin (UTC+1) is 06:30 UTC.
    assert reading.timestamp == dt.datetime(2025, 3, 10, 6, 30, tzinfo=dt.UTC)
    assert reading.values == {"energy": 1234.5}
    assert reading.created_by == member
    messages = [str(m) for m in response.wsgi_request._messages]
    # The value as it was typed.
    assert messages == ["Saved energy 1 234,5 kWh at 10 Mar 2025, 07:30."]


@time_machine.travel(NOW, tick=False)
def test_the_saved_message_shows_every_figure_typed(client, member, meter):
    response = signed_in(client, member).post(
        add_url(meter), {"timestamp": "2025-03-10T07:30", "metric_energy": "10488.769"}
    )
    assert [str(m) for m in response.wsgi_request._messages] == [
        "Saved energy 10488.769 kWh at 10 Mar 2025, 07:30."
    ]


@time_machine.travel(NOW, tick=False)
def test_save_and_add_another_comes_back_to_the_form(client, owner, meter):
    response = signed_in(client, owner).post(
        add_url(meter), {"timestamp": "2025-03-10T07:30", "metric_energy": "5", "add_another": "1"}
    )
    assert response.status_code == 302
    assert response.url == add_url(meter)


@time_machine.travel(NOW, tick=False)
def test_only_the_metrics_typed_in_are_stored(client, owner, two_metrics):
    signed_in(client, owner).post(
        add_url(two_metrics),
        {"timestamp": "2025-03-10T07:30", "metric_energy": "", "metric_flow_temperature": "41.5"},
    )
    assert Reading.objects.get().values == {"flow_temperature": 41.5}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"timestamp": "2025-03-10T07:30"}, "__all__", "Enter a value for at least one metric."),
        ({"timestamp": "2025-03-10T07:30", "metric_energy": "twelve"}, "metric_energy", "Enter a number."),
        ({"timestamp": "2025-03-10T07:30", "metric_energy": "inf"}, "metric_energy", "Enter a number."),
        ({"timestamp": "2025-03-10T07:30", "metric_energy": "NaN"}, "metric_energy", "Enter a number."),
        ({"timestamp": "", "metric_energy": "5"}, "timestamp", "This field is required."),
        ({"timestamp": "yesterday", "metric_energy": "5"}, "timestamp", "Enter a valid date/time."),
        (
            {"timestamp": "2025-03-10T13:00", "metric_energy": "5"},
            "timestamp",
            "This time is in the future. Readings record what a meter showed.",
        ),
        (
            # 02:30 does not exist in Berlin on the day the clocks go forward.
            {"timestamp": "2025-03-30T02:30", "metric_energy": "5"},
            "timestamp",
            "2025-03-30 02:30:00 couldn\N{RIGHT SINGLE QUOTATION MARK}t be interpreted in time zone "
            "Europe/Berlin; it may be ambiguous or it may not exist.",
        ),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_stored(
    client, owner, meter, data, field, message
):
    response = signed_in(client, owner).post(add_url(meter), data)

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    html = response.content.decode()
    if field == "__all__":
        assert f"<p>{message}</p>" in html
    else:
        # The message sits in the field's own error list, which the input points to for screen readers.
        assert f'<ul class="errorlist" id="id_{field}_error">' in html
        assert f'aria-describedby="id_{field}_helptext id_{field}_error"' in html or (
            f'aria-describedby="id_{field}_error"' in html
        )
    assert Reading.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_a_second_reading_at_the_same_time_is_refused(client, owner, meter):
    ReadingFactory(data_source=meter, timestamp=at(10, 7, 30), values={"energy": 5})

    response = signed_in(client, owner).post(
        add_url(meter), {"timestamp": "2025-03-10T07:30", "metric_energy": "6"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "timestamp": ["There is already a reading at this time; change that one or pick another time."]
    }
    assert Reading.objects.get().values == {"energy": 5}


# --- The lower-value confirmation -----------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_lower_meter_value_asks_whether_the_meter_was_replaced(client, owner, meter):
    ReadingFactory(data_source=meter, timestamp=at(9, 8), values={"energy": 1500})
    client = signed_in(client, owner)

    response = client.post(add_url(meter), {"timestamp": "2025-03-10T07:30", "metric_energy": "12"})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "metric_energy": [
            "This is lower than the reading before it: 1,500 kWh on 9 Mar 2025, 08:00. Was the meter "
            "replaced? Check the number, or tick the box below to store it as a new meter."
        ]
    }
    html = response.content.decode()
    assert 'name="meter_replaced"' in html
    assert "The meter was replaced or reset — store this value anyway" in html
    assert Reading.objects.count() == 1

    confirmed = client.post(
        add_url(meter), {"timestamp": "2025-03-10T07:30", "metric_energy": "12", "meter_replaced": "on"}
    )

    assert confirmed.status_code == 302
    assert Reading.objects.newest_first().first().values == {"energy": 12}


@time_machine.travel(NOW, tick=False)
def test_a_backdated_value_above_the_next_reading_asks_too(client, owner, meter):
    ReadingFactory(data_source=meter, timestamp=at(8, 8), values={"energy": 100})
    ReadingFactory(data_source=meter, timestamp=at(10, 8), values={"energy": 200})

    response = signed_in(client, owner).post(
        add_url(meter), {"timestamp": "2025-03-09T08:00", "metric_energy": "250"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "metric_energy": [
            "This is higher than the reading after it: 200 kWh on 10 Mar 2025, 08:00, so the register would "
            "go down. Check the number, or tick the box below if the meter was replaced in between."
        ]
    }


@time_machine.travel(NOW, tick=False)
def test_values_in_order_and_levels_need_no_confirmation(client, owner, two_metrics):
    ReadingFactory(
        data_source=two_metrics, timestamp=at(8, 8), values={"energy": 100, "flow_temperature": 45}
    )
    ReadingFactory(data_source=two_metrics, timestamp=at(10, 8), values={"energy": 200})

    response = signed_in(client, owner).post(
        add_url(two_metrics),
        # Between its neighbours, and a temperature may fall.
        {"timestamp": "2025-03-09T08:00", "metric_energy": "150", "metric_flow_temperature": "30"},
    )

    assert response.status_code == 302
    assert Reading.objects.count() == 3


# --- Who may add -------------------------------------------------------------------------------------


def test_a_viewer_cannot_add_readings(client, viewer, meter):
    client = signed_in(client, viewer)
    assert client.get(add_url(meter)).status_code == 403
    assert (
        client.post(add_url(meter), {"timestamp": "2025-03-10T07:30", "metric_energy": "5"}).status_code
        == 403
    )
    assert Reading.objects.count() == 0


def test_an_outsider_gets_404(client, outsider, meter):
    client = signed_in(client, outsider)
    assert client.get(add_url(meter)).status_code == 404
    assert (
        client.post(add_url(meter), {"timestamp": "2025-03-10T07:30", "metric_energy": "5"}).status_code
        == 404
    )
    assert Reading.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, meter):
    response = client.get(add_url(meter))
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={add_url(meter)}"


# --- Change and delete ----------------------------------------------------------------------------------


@pytest.fixture
def members_reading(meter, member):
    return ReadingFactory(data_source=meter, timestamp=at(9, 8), values={"energy": 100}, created_by=member)


@pytest.fixture
def owners_reading(meter, owner):
    return ReadingFactory(data_source=meter, timestamp=at(9, 9), values={"energy": 110}, created_by=owner)


@time_machine.travel(NOW, tick=False)
def test_a_member_changes_their_own_reading(client, member, members_reading):
    url = reverse("readings:reading-update", args=[members_reading.pk])
    client = signed_in(client, member)

    page = client.get(url)
    assert page.status_code == 200
    assert 'value="2025-03-09T08:00"' in page.content.decode()
    assert 'value="100"' in page.content.decode()

    response = client.post(url, {"timestamp": "2025-03-09T08:05", "metric_energy": "101.5"})

    assert response.status_code == 302
    members_reading.refresh_from_db()
    assert members_reading.timestamp == dt.datetime(2025, 3, 9, 7, 5, tzinfo=dt.UTC)
    assert members_reading.values == {"energy": 101.5}


@time_machine.travel(NOW, tick=False)
def test_a_changed_reading_is_compared_with_its_neighbours_not_itself(client, owner, meter, owners_reading):
    ReadingFactory(data_source=meter, timestamp=at(8, 9), values={"energy": 90})
    url = reverse("readings:reading-update", args=[owners_reading.pk])

    lower = signed_in(client, owner).post(url, {"timestamp": "2025-03-09T09:00", "metric_energy": "95"})
    assert lower.status_code == 302

    below_previous = client.post(url, {"timestamp": "2025-03-09T09:00", "metric_energy": "80"})
    assert below_previous.status_code == 400
    assert list(below_previous.context["form"].errors) == ["metric_energy"]


def test_a_member_cannot_change_or_delete_someone_elses_reading(client, member, owners_reading):
    client = signed_in(client, member)
    for name in ("readings:reading-update", "readings:reading-delete"):
        url = reverse(name, args=[owners_reading.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"timestamp": "2025-03-09T09:00", "metric_energy": "1"}).status_code == 403
    owners_reading.refresh_from_db()
    assert owners_reading.values == {"energy": 110}


def test_a_viewer_changes_nothing_and_an_outsider_sees_nothing(client, viewer, outsider, members_reading):
    for user, status in ((viewer, 403), (outsider, 404)):
        client = signed_in(client, user)
        for name in ("readings:reading-update", "readings:reading-delete"):
            url = reverse(name, args=[members_reading.pk])
            assert client.get(url).status_code == status
            assert client.post(url).status_code == status
    assert Reading.objects.count() == 1


def test_an_owner_deletes_any_reading_after_confirming(client, owner, members_reading):
    url = reverse("readings:reading-delete", args=[members_reading.pk])
    client = signed_in(client, owner)

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Delete this reading?" in html
    assert "<strong>100 kWh</strong> energy" in html
    assert "9 Mar 2025, 08:00" in html
    assert Reading.objects.count() == 1

    response = client.post(url)

    assert response.status_code == 302
    assert response.url == reverse("readings:source-detail", args=[members_reading.data_source_id])
    assert Reading.objects.count() == 0


# --- Query counts ----------------------------------------------------------------------------------------


def test_the_form_takes_the_same_queries_however_many_readings(client, owner, two_metrics):
    signed_in(client, owner)

    def grow(n):
        ReadingFactory.create_batch(
            n, data_source=two_metrics, values={"energy": 1.0, "flow_temperature": 20.0}
        )

    assert_constant_queries(client, add_url(two_metrics), grow, small=10, large=300)


def test_the_change_form_takes_the_same_queries_however_many_readings(client, owner, meter, owners_reading):
    signed_in(client, owner)
    # Hours of 2024, before the reading being changed: the factory's own sequence of hours could reach its
    # timestamp, depending on how many readings earlier tests made.
    hours = iter(range(10_000))

    def grow(n):
        for _ in range(n):
            ReadingFactory(
                data_source=meter,
                timestamp=dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=next(hours)),
            )

    assert_constant_queries(
        client, reverse("readings:reading-update", args=[owners_reading.pk]), grow, 10, 300
    )
