import datetime as dt
import uuid

import pytest
from django.utils import timezone

from homelog.testing import assert_constant_queries
from readings.models import Reading
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def meter(household, owner):
    return DataSourceFactory(
        household=household,
        created_by=owner,
        name="Meter",
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )


def readings_url(source, reading=None):
    url = f"/api/sources/{source.pk}/readings"
    return f"{url}/{reading.pk}" if reading else url


def as_json(reading):
    return {
        "id": str(reading.pk),
        "data_source_id": reading.data_source_id,
        "timestamp": reading.timestamp.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "values": reading.values,
        "created_by_id": reading.created_by_id,
        "created_at": reading.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }


@pytest.fixture
def three_readings(meter, member):
    return [
        ReadingFactory(
            data_source=meter,
            timestamp=utc(2025, 1, 1, hour),
            values={"energy": 10.0 + hour},
            created_by=member,
        )
        for hour in range(3)
    ]


def test_list_is_an_array_newest_first(api, viewer, meter, three_readings):
    first, second, third = three_readings
    response = api(viewer).get(readings_url(meter))
    assert response.status_code == 200
    assert response.json() == [as_json(third), as_json(second), as_json(first)]
    assert "Link" not in response.headers


def test_list_oldest_first(api, viewer, meter, three_readings):
    response = api(viewer).get(readings_url(meter), {"ordering": "timestamp"})
    assert [row["values"] for row in response.json()] == [
        {"energy": 10.0},
        {"energy": 11.0},
        {"energy": 12.0},
    ]


def test_list_rows_equal_the_detail_of_each_reading(api, viewer, meter, three_readings):
    client = api(viewer)
    for row in client.get(readings_url(meter)).json():
        assert client.get(f"{readings_url(meter)}/{row['id']}").json() == row


def test_list_only_shows_the_sources_own_readings(api, owner, household, meter, three_readings):
    ReadingFactory(data_source=DataSourceFactory(household=household))
    assert len(api(owner).get(readings_url(meter)).json()) == 3


def test_start_and_end_filter_with_offsets(api, owner, meter, three_readings):
    response = api(owner).get(
        readings_url(meter), {"start": "2025-01-01T01:00:00Z", "end": "2025-01-01T02:00:00+00:00"}
    )
    assert [row["timestamp"] for row in response.json()] == ["2025-01-01T01:00:00Z"]


def test_two_filters_on_one_bound_both_apply(api, owner, meter, three_readings):
    # end and before both bound the timestamp from above: the tighter one decides, whichever it is.
    client = api(owner)
    bounds = [("2025-01-01T02:00:00Z", "2025-01-01T01:00:00Z"), ("2025-01-01T01:00:00Z", "2025-01-02")]
    for end, before in bounds:
        rows = client.get(readings_url(meter), {"end": end, "before": before}).json()
        assert [row["timestamp"] for row in rows] == ["2025-01-01T00:00:00Z"]


def test_a_bad_filter_is_a_400_naming_it(api, owner, meter):
    response = api(owner).get(readings_url(meter), {"start": "yesterday"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["start"]
    # A "%" in the value, which django-filter once took for a format of its own (the fuzz found a 500).
    response = api(owner).get(
        readings_url(meter), {"after": "/%25ii%s", "before": "4526-08-11T05:34:52+02:14"}
    )
    assert response.status_code == 400
    assert response.json()["errors"]["after"] == [
        "'/%25ii%s' is not an ISO 8601 date or date-time "
        "(e.g. 2025-01-31, 2025-01-31T07:30:00 or 2025-01-31T07:30:00+01:00)."
    ]
    assert response.json()["errors"]["before"] == [
        "4526-08-11T05:34:52+02:14 is outside the years 1900 to 2199 that homelog keeps."
    ]


def test_filters_without_offset_are_in_the_households_timezone(api, owner, meter):
    # Berlin is UTC+1 in winter: local midnight of 2 January is 23:00 UTC on 1 January.
    for hour in (22, 23):
        ReadingFactory(data_source=meter, timestamp=utc(2025, 1, 1, hour))
    ReadingFactory(data_source=meter, timestamp=utc(2025, 1, 2, 23))
    client = api(owner)
    on_second = client.get(readings_url(meter), {"start": "2025-01-02", "end": "2025-01-02"}).json()
    assert [row["timestamp"] for row in on_second] == ["2025-01-01T23:00:00Z"]
    from_local_time = client.get(readings_url(meter), {"start": "2025-01-02T00:00:00"}).json()
    assert [row["timestamp"] for row in from_local_time] == ["2025-01-02T23:00:00Z", "2025-01-01T23:00:00Z"]


def test_next_page_link_continues_after_the_last_timestamp(api, owner, meter, three_readings):
    client = api(owner)
    response = client.get(readings_url(meter), {"limit": 2})
    assert [row["timestamp"] for row in response.json()] == ["2025-01-01T02:00:00Z", "2025-01-01T01:00:00Z"]
    next_url = f"http://testserver/api/sources/{meter.pk}/readings?before=2025-01-01T01%3A00%3A00Z&limit=2"
    assert response.headers["Link"] == f'<{next_url}>; rel="next"'
    last_page = client.get(next_url)
    assert [row["timestamp"] for row in last_page.json()] == ["2025-01-01T00:00:00Z"]
    assert "Link" not in last_page.headers


def test_keyset_paging_oldest_first_keeps_filters_and_drops_offset(api, owner, meter, three_readings):
    response = api(owner).get(
        readings_url(meter), {"ordering": "timestamp", "limit": 1, "offset": 1, "start": "2025-01-01"}
    )
    assert [row["timestamp"] for row in response.json()] == ["2025-01-01T01:00:00Z"]
    assert response.headers["Link"] == (
        f"<http://testserver/api/sources/{meter.pk}/readings?after=2025-01-01T01%3A00%3A00Z&limit=1"
        '&ordering=timestamp&start=2025-01-01>; rel="next"'
    )


def test_offset_skips_rows(api, owner, meter, three_readings):
    response = api(owner).get(readings_url(meter), {"offset": 2})
    assert [row["timestamp"] for row in response.json()] == ["2025-01-01T00:00:00Z"]


def test_list_runs_a_constant_number_of_queries(api, owner, meter):
    grow = ReadingFactory.create_batch
    count = assert_constant_queries(
        api(owner), readings_url(meter), lambda n: grow(n, data_source=meter), small=10, large=500
    )
    # The user behind the token, one page of readings (whose query also checks the caller may see the source).
    assert count == 2


def test_a_source_without_readings_lists_none(api, viewer, meter):
    response = api(viewer).get(readings_url(meter))
    assert response.status_code == 200
    assert response.json() == []


def test_the_readings_of_a_source_out_of_reach_are_a_404_not_an_empty_list(
    api, outsider, meter, three_readings
):
    response = api(outsider).get(readings_url(meter))
    assert response.status_code == 404


def test_create_reads_a_naive_timestamp_in_the_households_timezone(api, member, meter):
    response = api(member).post(
        readings_url(meter), {"timestamp": "2025-07-01T12:00:00", "values": {"energy": 5.5}}
    )
    assert response.status_code == 201
    reading = Reading.objects.get()
    assert reading.timestamp == utc(2025, 7, 1, 10)  # Berlin is UTC+2 in summer
    assert reading.created_by == member
    assert response.json() == as_json(reading)
    assert response.headers["Location"] == f"http://testserver/api/sources/{meter.pk}/readings/{reading.pk}"


def test_create_keeps_an_explicit_offset(api, owner, meter):
    response = api(owner).post(
        readings_url(meter), {"timestamp": "2025-07-01T12:00:00-04:00", "values": {"power": 230}}
    )
    assert response.json()["timestamp"] == "2025-07-01T16:00:00Z"
    assert response.json()["values"] == {"power": 230}


def test_create_without_timestamp_means_now(api, owner, meter):
    before = timezone.now()
    response = api(owner).post(readings_url(meter), {"values": {"energy": 1}})
    after = timezone.now()
    assert response.status_code == 201
    assert before <= Reading.objects.get().timestamp <= after


def test_create_keeps_the_clients_id_and_ignores_owners_and_sources_in_the_body(api, member, owner, meter):
    body = {
        "id": str(uuid.uuid4()),
        "values": {"energy": 1},
        "created_by_id": owner.pk,
        "data_source_id": 999,
    }
    response = api(member).post(readings_url(meter), body)
    reading = Reading.objects.get()
    assert (str(reading.pk), reading.created_by, reading.data_source) == (body["id"], member, meter)
    assert response.json()["created_by_id"] == member.pk


def test_second_reading_at_the_same_timestamp_is_a_conflict(api, owner, meter, three_readings):
    response = api(owner).post(
        readings_url(meter), {"timestamp": "2025-01-01T01:00:00Z", "values": {"energy": 1}}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This source already has a reading at 2025-01-01T01:00:00Z.",
        "code": "conflict",
    }
    assert Reading.objects.count() == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"water": 1}, "Unknown metric 'water'; this source has: energy, power."),
        ({"energy": "12"}, "Value of 'energy' must be a number, not '12'."),
        ({"energy": True}, "Value of 'energy' must be a number, not True."),
        ({}, "Values must contain at least one metric."),
        ([1, 2], "Values must be an object mapping metric names to numbers."),
    ],
)
def test_invalid_values_are_refused(api, owner, meter, values, message):
    response = api(owner).post(readings_url(meter), {"timestamp": "2025-01-01T00:00:00Z", "values": values})
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Invalid input. values: {message}",
        "code": "invalid",
        "errors": {"values": [message]},
    }
    assert not Reading.objects.exists()


def test_numbers_too_large_for_a_float_are_refused(api, owner, meter):
    for number, message in (
        ("1e400", "must be a finite number, not inf"),
        ("1" + "0" * 400, "must be between -1e15 and 1e15, not a number larger than 1.8e308"),
    ):
        body = f'{{"values": {{"energy": {number}}}}}'
        response = api(owner).post(readings_url(meter), body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["errors"] == {"values": [f"Value of 'energy' {message}."]}
    assert not Reading.objects.exists()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused(api, owner, meter, literal):
    body = f'{{"values": {{"energy": {literal}}}}}'
    response = api(owner).post(readings_url(meter), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["detail"].startswith("JSON parse error")
    assert not Reading.objects.exists()


@pytest.mark.parametrize(
    ("timestamp", "message"),
    [
        ("yesterday", "'yesterday' is not an ISO 8601 date or date-time"),
        ("2025-02-30T00:00:00", "'2025-02-30T00:00:00' is not an ISO 8601 date or date-time"),
        ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+14:00 is outside the years 1900 to 2199"),
        (1735689600, "Expected an ISO 8601 date-time"),
    ],
)
def test_invalid_timestamps_are_refused(api, owner, meter, timestamp, message):
    response = api(owner).post(readings_url(meter), {"timestamp": timestamp, "values": {"energy": 1}})
    assert response.status_code == 400
    assert response.json()["errors"]["timestamp"][0].startswith(message)
    assert not Reading.objects.exists()


def test_retrieve(api, viewer, meter, three_readings):
    response = api(viewer).get(readings_url(meter, three_readings[0]))
    assert response.status_code == 200
    assert response.json() == as_json(three_readings[0])


def test_retrieve_through_another_source_is_not_found(api, owner, household, three_readings):
    other = DataSourceFactory(household=household)
    assert api(owner).get(readings_url(other, three_readings[0])).status_code == 404


def test_member_changes_own_reading_with_put(api, member, meter, three_readings):
    reading = three_readings[0]
    response = api(member).put(
        readings_url(meter, reading), {"timestamp": "2025-02-01T00:00:00Z", "values": {"power": 7}}
    )
    assert response.status_code == 200
    reading.refresh_from_db()
    assert (reading.timestamp, reading.values) == (utc(2025, 2, 1), {"power": 7})
    assert response.json() == as_json(reading)


def test_patch_changes_only_what_is_given(api, owner, meter, three_readings):
    reading = three_readings[0]
    response = api(owner).patch(readings_url(meter, reading), {"values": {"energy": 99.5}})
    assert response.status_code == 200
    reading.refresh_from_db()
    assert (reading.timestamp, reading.values, reading.created_by_id) == (
        utc(2025, 1, 1, 0),
        {"energy": 99.5},
        three_readings[0].created_by_id,
    )


def test_moving_a_reading_onto_another_ones_timestamp_is_a_conflict(api, owner, meter, three_readings):
    response = api(owner).patch(readings_url(meter, three_readings[0]), {"timestamp": "2025-01-01T02:00:00Z"})
    assert response.status_code == 409
    assert response.json()["detail"] == "This source already has a reading at 2025-01-01T02:00:00Z."
    three_readings[0].refresh_from_db()
    assert three_readings[0].timestamp == utc(2025, 1, 1, 0)


def test_member_cannot_change_or_delete_someone_elses_reading(api, owner, member, meter):
    reading = ReadingFactory(data_source=meter, created_by=owner, values={"energy": 1.0})
    client = api(member)
    for response in (
        client.patch(readings_url(meter, reading), {"values": {"energy": 2}}),
        client.delete(readings_url(meter, reading)),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only the household's owners and the member who added a reading can change it.",
            "code": "permission_denied",
        }
    reading.refresh_from_db()
    assert reading.values == {"energy": 1.0}


def test_delete(api, member, meter, three_readings):
    response = api(member).delete(readings_url(meter, three_readings[0]))
    assert response.status_code == 204
    assert response.content == b""
    assert Reading.objects.count() == 2


def test_malformed_reading_id_is_not_found(api, owner, meter):
    assert api(owner).get(f"{readings_url(meter)}/not-a-uuid").status_code == 404
