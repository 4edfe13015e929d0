import datetime as dt
import uuid

import orjson
import pytest
from rest_framework.test import APIClient

from readings.models import Reading
from readings.tests.factories import ReadingFactory
from readings.tests.helpers import stored
from sources.models import DeviceToken
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
READING_ID = uuid.UUID("0193a0e2-0000-7000-8000-00000000000a")


@pytest.fixture
def meter(household):
    return DataSourceFactory(
        household=household,
        name="Meter",
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )


def bulk_url(source, partial=None):
    url = f"/api/sources/{source.pk}/readings/bulk"
    return url if partial is None else f"{url}?partial={partial}"


def at(hours):
    return (T0 + dt.timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def post_json(client, url, body):
    return client.post(
        url, orjson.dumps(body) if not isinstance(body, str) else body, content_type="application/json"
    )


def device(source):
    _, secret = DeviceToken.issue(data_source=source, name="Reader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


BATCH = [
    {"timestamp": at(0), "values": {"energy": 1.5}},
    {"id": str(READING_ID), "timestamp": at(1), "values": {"energy": 2, "power": 300}},
    {"timestamp": "2025-03-01 16:00", "values": {"power": 0.25}},
]


def test_the_same_batch_three_times_is_stored_once(api, member, meter):
    answers = [post_json(api(member), bulk_url(meter), BATCH) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json() == {"created": 3, "existing": 0, "failed": 0, "errors": {}}
    assert answers[1].json() == answers[2].json() == {"created": 0, "existing": 3, "failed": 0, "errors": {}}
    assert stored(meter) == [
        ("2025-03-01T12:00:00+00:00", {"energy": 1.5}),
        ("2025-03-01T13:00:00+00:00", {"energy": 2, "power": 300}),
        # Without an offset: the household's time, UTC+1 in March.
        ("2025-03-01T15:00:00+00:00", {"power": 0.25}),
    ]
    assert Reading.objects.get(pk=READING_ID).created_by == member


def test_an_atomic_batch_with_a_bad_item_stores_nothing_and_names_it(api, owner, meter):
    batch = [*BATCH, {"timestamp": at(5), "values": {"energy": "lots"}}, {"timestamp": "soon", "values": {}}]
    response = post_json(api(owner), bulk_url(meter), batch)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Nothing was stored: 2 of 5 readings are invalid or conflict with stored ones.",
        "code": "invalid",
        "created": 0,
        "existing": 0,
        "failed": 2,
        "errors": {
            "3.values": ["Value of 'energy' must be a number, not 'lots'."],
            "4.timestamp": [
                "'soon' is not an ISO 8601 date or date-time (e.g. 2025-01-31, 2025-01-31T07:30:00 or "
                "2025-01-31T07:30:00+01:00)."
            ],
            "4.values": ["Values must contain at least one metric."],
        },
    }
    assert stored(meter) == []


def test_a_partial_batch_stores_exactly_the_good_items(api, owner, meter):
    batch = [*BATCH, {"timestamp": at(5), "values": {"gas": 1}}]
    response = post_json(api(owner), bulk_url(meter, "true"), batch)
    assert response.status_code == 200
    assert response.json() == {
        "created": 3,
        "existing": 0,
        "failed": 1,
        "errors": {"3.values": ["Unknown metric 'gas'; this source has: energy, power."]},
    }
    assert len(stored(meter)) == 3


def test_conflicts_with_stored_readings_are_reported_per_index(api, owner, meter):
    ReadingFactory(data_source=meter, timestamp=T0, values={"energy": 1.0})
    batch = [{"timestamp": at(1), "values": {"energy": 2}}, {"timestamp": at(0), "values": {"energy": 9}}]
    message = (
        "A reading with other values is already stored at 2025-03-01T12:00:00+00:00; "
        "change it on its own rather than in a batch."
    )
    atomic = post_json(api(owner), bulk_url(meter), batch)
    assert atomic.status_code == 400
    assert atomic.json()["errors"] == {"1.timestamp": [message]}
    assert len(stored(meter)) == 1
    partial = post_json(api(owner), bulk_url(meter, "1"), batch)
    assert partial.json() == {"created": 1, "existing": 0, "failed": 1, "errors": {"1.timestamp": [message]}}


@pytest.mark.parametrize(
    ("literal", "shown"), [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf"), ("1e400", "inf")]
)
def test_nan_and_infinity_are_reported_for_their_item(api, owner, meter, literal, shown):
    good = f'{{"timestamp": "{at(0)}", "values": {{"energy": 1}}}}'
    bad = f'{{"timestamp": "{at(1)}", "values": {{"energy": {literal}}}}}'
    body = f"[{good}, {bad}]"
    response = post_json(api(owner), bulk_url(meter), body)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "1.values": [f"Value of 'energy' must be a finite number, not {shown}."]
    }
    assert stored(meter) == []


@pytest.mark.parametrize(
    ("item", "errors"),
    [
        (
            {"timestamp": at(0), "values": {"energy": "1"}},
            {"0.values": ["Value of 'energy' must be a number, not '1'."]},
        ),
        (
            {"timestamp": at(0), "values": {"energy": False}},
            {"0.values": ["Value of 'energy' must be a number, not False."]},
        ),
        ({"timestamp": at(0), "values": {}}, {"0.values": ["Values must contain at least one metric."]}),
        ({"timestamp": at(0)}, {"0.values": ["This field is required."]}),
        ({"timestamp": at(0), "values": {"energy": 1}, "id": 7}, {"0.id": ["Id must be a UUID, not 7."]}),
        (
            "reading",
            {
                "0.non_field_errors": [
                    "Each reading must be an object with 'timestamp' and 'values', not 'reading'."
                ]
            },
        ),
    ],
)
def test_bad_items(api, owner, meter, item, errors):
    response = post_json(api(owner), bulk_url(meter), [item])
    assert response.status_code == 400
    assert response.json()["errors"] == errors


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (
            '{"timestamp": "2025-03-01T12:00:00Z"}',
            "application/json",
            400,
            "Invalid input. Send a JSON array",
        ),
        ("[{", "application/json", 400, "JSON parse error"),
        ("timestamp,energy", "text/plain", 415, 'Unsupported media type "text/plain" in request.'),
        (
            "timestamp,gas\n2025-03-01T12:00:00Z,1\n",
            "text/csv",
            400,
            "Invalid input. The CSV header names 'gas'",
        ),
    ],
)
def test_bodies_that_are_not_a_batch_are_refused(api, owner, meter, body, content_type, status, message):
    response = api(owner).post(bulk_url(meter), body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["detail"].startswith(message)
    assert stored(meter) == []


def test_partial_must_be_a_boolean(api, owner, meter):
    response = post_json(api(owner), bulk_url(meter, "maybe"), BATCH)
    assert response.status_code == 400
    assert response.json()["errors"] == {"partial": ["Must be true or false, not 'maybe'."]}


def test_a_batch_over_the_limit_is_refused(api, owner, meter, settings):
    settings.INGEST_MAX_BATCH = 2
    response = post_json(api(owner), bulk_url(meter), BATCH)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["A batch holds at most 2 readings; this one has more."]
    }
    csv_body = "timestamp,energy\n" + "".join(f"{at(hour)},{hour}\n" for hour in range(3))
    response = api(owner).post(bulk_url(meter), csv_body, content_type="text/csv")
    assert response.status_code == 400
    assert stored(meter) == []


def test_an_oversized_body_is_refused_with_413_before_parsing(api, owner, meter, settings):
    settings.INGEST_MAX_BODY_BYTES = 100
    body = orjson.dumps(BATCH)
    response = api(owner).post(bulk_url(meter), body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"The body has {len(body)} bytes; at most 100 are accepted. "
        "Send fewer readings per request.",
        "code": "too_large",
    }
    # Not even malformed JSON is looked at.
    response = api(owner).post(bulk_url(meter), "[" * 200, content_type="application/json")
    assert response.status_code == 413
    assert stored(meter) == []


def test_csv_bodies_follow_the_same_rules(api, owner, meter):
    body = f"timestamp,energy,power\n{at(0)},1.5,\n{at(1)},2,300\n{at(2)},x,1\n{at(3)},4\n"
    atomic = api(owner).post(bulk_url(meter), body, content_type="text/csv")
    assert atomic.status_code == 400
    assert atomic.json()["errors"] == {
        "2.values": ["Value of 'energy' must be a number, not 'x'."],
        "3.non_field_errors": ["Expected 3 fields (timestamp,energy,power), found 2."],
    }
    partial = api(owner).post(bulk_url(meter, "true"), body, content_type="text/csv")
    assert partial.json()["created"] == 2
    again = api(owner).post(bulk_url(meter, "true"), body, content_type="text/csv")
    assert (again.json()["created"], again.json()["existing"], again.json()["failed"]) == (0, 2, 2)
    assert stored(meter) == [
        ("2025-03-01T12:00:00+00:00", {"energy": 1.5}),
        ("2025-03-01T13:00:00+00:00", {"energy": 2, "power": 300}),
    ]


def test_who_may_send_a_batch(api, viewer, outsider, meter):
    assert post_json(api(), bulk_url(meter), BATCH).status_code == 401
    response = post_json(api(viewer), bulk_url(meter), BATCH)
    assert (response.status_code, response.json()["detail"]) == (403, "Viewers cannot add readings.")
    assert post_json(api(outsider), bulk_url(meter), BATCH).status_code == 404
    assert stored(meter) == []


def test_a_device_token_adds_readings_to_its_own_source_only(household, meter):
    other = DataSourceFactory(household=household)
    client = device(meter)
    response = post_json(client, bulk_url(meter), BATCH)
    assert response.json() == {"created": 3, "existing": 0, "failed": 0, "errors": {}}
    assert set(Reading.objects.values_list("created_by", flat=True)) == {None}
    response = post_json(client, bulk_url(other), BATCH)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    single = client.post(
        f"/api/sources/{meter.pk}/readings", {"timestamp": at(9), "values": {"energy": 5}}, format="json"
    )
    assert single.status_code == 201
    assert single.json()["created_by_id"] is None
    single = client.post(
        f"/api/sources/{other.pk}/readings", {"timestamp": at(9), "values": {"energy": 5}}, format="json"
    )
    assert single.status_code == 404
    assert Reading.objects.filter(data_source=other).count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/sources/{pk}/readings",
        "/api/sources/{pk}/readings.csv",
        "/api/sources/{pk}",
        "/api/sources",
        "/api/sources/{pk}/tokens",
        "/api/households",
    ],
)
def test_a_device_token_reads_nothing(meter, path):
    response = device(meter).get(path.format(pk=meter.pk))
    assert response.status_code in (401, 403)
    assert "energy" not in response.content.decode()


def test_a_device_token_cannot_change_or_delete_readings(meter):
    reading = ReadingFactory(data_source=meter, values={"energy": 1})
    client = device(meter)
    url = f"/api/sources/{meter.pk}/readings/{reading.pk}"
    assert client.patch(url, {"values": {"energy": 2}}, format="json").status_code == 403
    assert client.delete(url).status_code == 403
    reading.refresh_from_db()
    assert reading.values == {"energy": 1}


def test_a_revoked_or_unknown_token_is_refused(meter):
    token, secret = DeviceToken.issue(data_source=meter, name="Reader")
    token.revoke()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = post_json(client, bulk_url(meter), BATCH)
    assert response.status_code == 401
    assert response.json()["detail"] == "The device token is not valid or has been revoked."
    client.credentials(HTTP_AUTHORIZATION="Token hlt_made-up")
    assert post_json(client, bulk_url(meter), BATCH).status_code == 401
    assert stored(meter) == []
