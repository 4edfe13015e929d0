"""The range of values homelog accepts (|x| <= 1e15, finite, a number, not a boolean), refused with the same
message at every entry, and values stored out of range by something other than homelog still rendered."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from readings.models import Reading
from readings.tests.factories import ReadingFactory
from readings.tests.helpers import stored
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)

# (JSON literal, as the message shows it)
OUT_OF_RANGE = [
    ("1e20", "1e+20"),
    ("-2e19", "-2e+19"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ("1000000000000001", "1000000000000001"),
    ("-1000000000000000.5", "-1000000000000000.5"),
]
# Integers past 64 bits: the JSON parsers read them as doubles, or keep them as integers.
HUGE_INTEGERS = ["18446744073709551616", "18446744073709551617", "1" + "0" * 30]


def range_message(shown):
    return f"Value of 'energy' must be between -1e15 and 1e15, not {shown}."


@pytest.fixture
def meter(household):
    return DataSourceFactory(
        household=household, name="Meter", metrics={"energy": {"unit": "kWh", "cumulative": True}}
    )


def post_json(client, url, body, method="post"):
    return getattr(client, method)(url, body, content_type="application/json")


def test_the_rule():
    from sources.metrics import value_error

    assert value_error("energy", 1e15) is None
    assert value_error("energy", -1e15) is None
    assert value_error("energy", 10**15) is None
    assert value_error("energy", 0) is None
    assert value_error("energy", 1e20) == range_message("1e+20")
    assert value_error("energy", 10**15 + 1) == range_message("1000000000000001")
    assert value_error("energy", 2**64) == range_message("1.84467e+19")
    assert value_error("energy", 10**400) == range_message("a number larger than 1.8e308")
    assert value_error("energy", float("nan")) == "Value of 'energy' must be a finite number, not nan."
    assert value_error("energy", float("-inf")) == "Value of 'energy' must be a finite number, not -inf."
    assert value_error("energy", True) == "Value of 'energy' must be a number, not True."


@pytest.mark.parametrize(("literal", "shown"), OUT_OF_RANGE)
def test_the_api_refuses_a_value_out_of_range(api, owner, meter, literal, shown):
    url = f"/api/sources/{meter.pk}/readings"
    response = post_json(api(owner), url, f'{{"values": {{"energy": {literal}}}}}')
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Invalid input. values: {range_message(shown)}",
        "code": "invalid",
        "errors": {"values": [range_message(shown)]},
    }
    reading = ReadingFactory(data_source=meter, values={"energy": 1.0})
    response = post_json(api(owner), f"{url}/{reading.pk}", f'{{"values": {{"energy": {literal}}}}}', "patch")
    assert response.status_code == 400
    assert response.json()["errors"] == {"values": [range_message(shown)]}
    assert stored(meter) == [(reading.timestamp.isoformat(), {"energy": 1.0})]


@pytest.mark.parametrize("literal", HUGE_INTEGERS)
def test_the_api_refuses_integers_past_64_bits(api, owner, meter, literal):
    response = post_json(
        api(owner), f"/api/sources/{meter.pk}/readings", f'{{"values": {{"energy": {literal}}}}}'
    )
    assert response.status_code == 400
    [message] = response.json()["errors"]["values"]
    assert message.startswith("Value of 'energy' must be between -1e15 and 1e15, not ")
    assert not Reading.objects.exists()


def test_the_api_refuses_a_boolean(api, owner, meter):
    response = post_json(api(owner), f"/api/sources/{meter.pk}/readings", '{"values": {"energy": true}}')
    assert response.status_code == 400
    assert response.json()["errors"] == {"values": ["Value of 'energy' must be a number, not True."]}


def test_the_bounds_themselves_are_accepted(api, owner, meter):
    url = f"/api/sources/{meter.pk}/readings"
    for timestamp, literal in (
        ("2025-01-01T00:00:00Z", "1e15"),
        ("2025-01-02T00:00:00Z", "-1000000000000000"),
    ):
        body = f'{{"timestamp": "{timestamp}", "values": {{"energy": {literal}}}}}'
        assert post_json(api(owner), url, body).status_code == 201
    assert [values for _, values in stored(meter)] == [{"energy": 1e15}, {"energy": -1e15}]


@pytest.mark.parametrize("partial", ["false", "true"])
def test_bulk_json_refuses_each_value_out_of_range_by_its_index(api, meter, partial):
    from sources.models import DeviceToken

    _, secret = DeviceToken.issue(data_source=meter, name="Reader")
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    literals = [literal for literal, _ in OUT_OF_RANGE] + HUGE_INTEGERS
    items = [
        f'{{"timestamp": "2025-01-01T{hour:02}:00:00Z", "values": {{"energy": {literal}}}}}'
        for hour, literal in enumerate(literals)
    ]
    good = '{"timestamp": "2025-02-01T00:00:00Z", "values": {"energy": 5}}'
    response = post_json(
        client, f"/api/sources/{meter.pk}/readings/bulk?partial={partial}", f"[{good}, {', '.join(items)}]"
    )
    errors = response.json()["errors"]
    assert errors == {
        **{f"{index + 1}.values": [range_message(shown)] for index, (_, shown) in enumerate(OUT_OF_RANGE)},
        f"{len(OUT_OF_RANGE) + 1}.values": [range_message("1.8446744073709552e+19")],
        f"{len(OUT_OF_RANGE) + 2}.values": [range_message("1.8446744073709552e+19")],
        f"{len(OUT_OF_RANGE) + 3}.values": [range_message("1e+30")],
    }
    if partial == "true":
        assert response.status_code == 200
        assert stored(meter) == [("2025-02-01T00:00:00+00:00", {"energy": 5})]
    else:
        assert response.status_code == 400
        assert stored(meter) == []


def test_bulk_csv_refuses_a_value_out_of_range(api, owner, meter):
    body = (
        "timestamp,energy\n2025-01-01T00:00:00Z,1\n2025-01-01T01:00:00Z,1e20\n"
        "2025-01-01T02:00:00Z,18446744073709551617\n"
    )
    response = api(owner).post(f"/api/sources/{meter.pk}/readings/bulk", body, content_type="text/csv")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "1.values": [range_message("1e+20")],
        "2.values": [range_message("1.8446744073709552e+19")],
    }
    assert stored(meter) == []


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("typed", "shown"),
    [("1e20", "1e+20"), ("-2e19", "-2e+19"), ("1 000 000 000 000 001", "1000000000000001.0")],
)
def test_the_page_form_refuses_a_value_out_of_range_on_its_field(client, member, meter, typed, shown):
    client.force_login(member)
    response = client.post(
        reverse("readings:reading-create", args=[meter.pk]),
        {"timestamp": "2025-03-10T07:30", "metric_energy": typed},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"metric_energy": [range_message(shown)]}
    assert stored(meter) == []


def test_the_import_page_refuses_a_value_out_of_range(client, member, meter):
    client.force_login(member)
    upload = SimpleUploadedFile(
        "r.csv", b"timestamp,energy\n2025-01-31 08:00,1e20\n", content_type="text/csv"
    )
    response = client.post(
        reverse("readings:reading-import", args=[meter.pk]), {"file": upload, "timezone": "Europe/Berlin"}
    )
    assert response.status_code == 400
    assert response.context["problems"] == [(2, range_message("1e+20"))]
    assert stored(meter) == []


def test_the_import_command_skips_a_value_out_of_range(meter, tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text("timestamp,energy\n2025-03-01T12:00:00Z,1.5\n2025-03-01T13:00:00Z,-2e19\n")
    out = io.StringIO()
    call_command("import_readings", str(path), source=meter.pk, no_progress=True, stdout=out)
    assert out.getvalue() == (
        f"Imported into “Meter” (#{meter.pk}): 1 created, 0 already stored, 1 skipped.\n"
        "Skipped rows:\n"
        f"  line 3: {range_message('-2e+19')}\n"
    )
    assert stored(meter) == [("2025-03-01T12:00:00+00:00", {"energy": 1.5})]


def test_the_admin_refuses_a_value_out_of_range(admin_client, meter):
    reading = ReadingFactory(data_source=meter, values={"energy": 1.0})
    response = admin_client.post(
        reverse("admin:readings_reading_change", args=[reading.pk]),
        {
            "id": str(reading.pk),
            "data_source": meter.pk,
            "timestamp_0": "2025-01-01",
            "timestamp_1": "00:00:00",
            "values": '{"energy": 1e20}',
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"values": [range_message("1e+20")]}
    reading.refresh_from_db()
    assert reading.values == {"energy": 1.0}


# --- Values stored out of range by something other than homelog ---------------------------------------------


def _store_raw(reading, json_text):
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {Reading._meta.db_table} SET "values" = %s WHERE id = %s',
            [json_text, reading.pk.hex if connection.vendor == "sqlite" else reading.pk],
        )


@pytest.mark.parametrize(
    ("stored_json", "rendered"),
    [
        ('{"energy": 1e20}', 1e20),
        ('{"energy": -18446744073709551617}', -1.8446744073709552e19),
        ('{"energy": 1.7976931348623157e308}', 1.7976931348623157e308),
    ],
)
def test_values_stored_out_of_range_are_rendered(api, client, owner, meter, stored_json, rendered):
    reading = ReadingFactory(
        data_source=meter, timestamp=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), values={"energy": 1.0}
    )
    _store_raw(reading, stored_json)
    user = api(owner)
    listed = user.get("/api/sources")
    assert listed.status_code == 200
    assert listed.json()[0]["latest_reading"]["values"] == {"energy": rendered}
    detail = user.get(f"/api/sources/{meter.pk}")
    assert detail.status_code == 200
    assert detail.json()["latest_reading"]["values"] == {"energy": rendered}
    one = user.get(f"/api/sources/{meter.pk}/readings/{reading.pk}")
    assert one.status_code == 200
    assert one.json()["values"] == {"energy": rendered}
    assert user.get(f"/api/sources/{meter.pk}/readings").status_code == 200
    export = user.get(f"/api/sources/{meter.pk}/readings.csv")
    assert export.status_code == 200
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 2 and float(lines[1].rsplit(",", 1)[1]) == rendered
    client.force_login(owner)
    assert client.get(reverse("readings:home")).status_code == 200
    assert client.get(reverse("readings:source-detail", args=[meter.pk])).status_code == 200
    assert client.get(reverse("readings:reading-update", args=[reading.pk])).status_code == 200


@pytest.mark.parametrize("partial", ["false", "true"])
def test_bulk_json_reports_nan_infinity_and_huge_integers_by_index(api, meter, partial):
    """NaN and Infinity are not JSON, but devices send them: each reading holding one is refused by its
    index, next to an integer past 64 bits, and the good reading is kept when partial."""
    from sources.models import DeviceToken

    _, secret = DeviceToken.issue(data_source=meter, name="Reader")
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    body = (
        '[{"timestamp": "2025-01-01T00:00:00Z", "values": {"energy": NaN}},'
        ' {"timestamp": "2025-01-01T01:00:00Z", "values": {"energy": 18446744073709551616}},'
        ' {"timestamp": "2025-01-01T02:00:00Z", "values": {"energy": -Infinity}},'
        ' {"timestamp": "2025-01-01T03:00:00Z", "values": {"energy": 5}}]'
    )
    response = post_json(client, f"/api/sources/{meter.pk}/readings/bulk?partial={partial}", body)
    errors = {
        "0.values": ["Value of 'energy' must be a finite number, not nan."],
        "1.values": [range_message("1.84467e+19")],
        "2.values": ["Value of 'energy' must be a finite number, not -inf."],
    }
    if partial == "true":
        assert response.status_code == 200
        assert response.json() == {"created": 1, "existing": 0, "failed": 3, "errors": errors}
        assert stored(meter) == [("2025-01-01T03:00:00+00:00", {"energy": 5})]
    else:
        assert response.status_code == 400
        assert response.json() == {
            "detail": "Nothing was stored: 3 of 4 readings are invalid or conflict with stored ones.",
            "code": "invalid",
            "created": 0,
            "existing": 0,
            "failed": 3,
            "errors": errors,
        }
        assert stored(meter) == []
