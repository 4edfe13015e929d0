import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from readings.models import Reading
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory


@pytest.fixture
def meter(household):
    return DataSourceFactory(
        household=household, name="Gas meter", metrics={"volume": {"unit": "m³", "cumulative": True}}
    )


def url(source):
    return reverse("readings:reading-import", args=[source.pk])


def upload(text, name="readings.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def post(client, user, source, text, **data):
    client.force_login(user)
    return client.post(url(source), {"file": upload(text), "timezone": "Europe/Berlin", **data})


GOOD = "timestamp,volume\n2025-01-31 08:00,100.5\n2025-02-01T08:00:00+01:00,101.25\n"


def test_the_form_defaults_to_the_households_time_zone_and_shows_the_format(client, member, meter):
    client.force_login(member)
    response = client.get(url(meter))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="Europe/Berlin" selected>Europe/Berlin</option>' in html
    assert 'accept=".csv,text/csv"' in html
    assert "timestamp,volume\n2025-01-31T08:00:00+01:00,1234.5" in html


def test_a_member_imports_a_file(client, member, meter):
    response = post(client, member, meter, GOOD)

    assert response.status_code == 302
    assert response.url == reverse("readings:source-detail", args=[meter.pk])
    stored = list(
        Reading.objects.of_source(meter)
        .order_by("timestamp")
        .values_list("timestamp", "values", "created_by")
    )
    assert stored == [
        (dt.datetime(2025, 1, 31, 7, tzinfo=dt.UTC), {"volume": 100.5}, member.pk),
        (dt.datetime(2025, 2, 1, 7, tzinfo=dt.UTC), {"volume": 101.25}, member.pk),
    ]
    assert [str(m) for m in response.wsgi_request._messages] == ["Imported 2 new readings."]


def test_importing_the_same_file_again_stores_nothing_new(client, member, meter):
    post(client, member, meter, GOOD)
    response = post(client, member, meter, GOOD)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages[-1] == "Imported 0 new readings; 2 were already stored."
    assert Reading.objects.count() == 2


def test_naive_times_follow_the_chosen_time_zone(client, owner, meter):
    post(client, owner, meter, "timestamp,volume\n2025-01-31 08:00,1\n", timezone="America/New_York")
    assert Reading.objects.get().timestamp == dt.datetime(2025, 1, 31, 13, tzinfo=dt.UTC)


BAD = (
    "timestamp,volume\n"
    "2025-01-31 08:00,100\n"
    "yesterday,101\n"
    "2025-02-02 08:00,lots\n"
    "2025-02-03 08:00,NaN\n"
    "2025-02-04 08:00\n"
    "2025-02-05 08:00,105\n"
)
BAD_LINES = [
    (
        3,
        "'yesterday' is not an ISO 8601 date or date-time "
        "(e.g. 2025-01-31, 2025-01-31T07:30:00 or 2025-01-31T07:30:00+01:00).",
    ),
    (4, "Value of 'volume' must be a number, not 'lots'."),
    (5, "Value of 'volume' must be a finite number, not nan."),
    (6, "Expected 2 fields (timestamp,volume), found 1."),
]


def test_one_bad_row_and_nothing_is_stored_with_every_problem_listed_by_line(client, owner, meter):
    response = post(client, owner, meter, BAD)

    assert response.status_code == 400
    assert response.context["problems"] == BAD_LINES
    html = response.content.decode()
    assert "Nothing was stored" in html
    lots = "Value of &#x27;volume&#x27; must be a number, not &#x27;lots&#x27;."
    assert f'<tr><td class="num">4</td><td>{lots}</td></tr>' in html
    assert Reading.objects.count() == 0


def test_with_partial_the_good_rows_are_stored_and_the_bad_listed(client, owner, meter):
    response = post(client, owner, meter, BAD, partial="on")

    assert response.status_code == 200
    assert response.context["problems"] == BAD_LINES
    assert "Imported 2 new readings" in response.content.decode()
    assert sorted(r.values["volume"] for r in Reading.objects.all()) == [100, 105]


def test_a_row_that_conflicts_with_a_stored_reading_is_reported(client, owner, meter):
    ReadingFactory(
        data_source=meter, timestamp=dt.datetime(2025, 1, 31, 7, tzinfo=dt.UTC), values={"volume": 99}
    )
    response = post(client, owner, meter, GOOD)
    assert response.status_code == 400
    assert [line for line, _ in response.context["problems"]] == [2]
    assert Reading.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "time,volume\n2025-01-31 08:00,1\n",
            "The CSV header has no 'timestamp' column; this source's metrics are: volume.",
        ),
        (
            "timestamp,energy\n2025-01-31 08:00,1\n",
            "The CSV header names 'energy', which this source does not measure; its metrics are: volume. "
            "A column of a metric removed from the source (an export keeps their values) imports once the "
            "metric is added back to the source.",
        ),
        ("timestamp,volume\n", "This file has a header row but no readings."),
        ("", "The submitted file is empty."),
    ],
)
def test_a_file_that_cannot_be_read_says_why(client, owner, meter, text, message):
    response = post(client, owner, meter, text)
    assert response.status_code == 400
    assert response.context["form"].errors == {"file": [message]}


def test_a_file_that_is_not_utf8_says_so(client, owner, meter):
    client.force_login(owner)
    response = client.post(
        url(meter),
        {
            "file": SimpleUploadedFile("r.csv", "timestamp,volume\n2025-01-31 08:00,1 é\n".encode("latin-1")),
            "timezone": "UTC",
        },
    )
    assert response.context["form"].errors == {
        "file": ["This file is not UTF-8 text. Save it as CSV UTF-8 and try again."]
    }


def test_a_file_over_the_limit_is_refused(client, owner, meter, settings):
    settings.PAGES_IMPORT_MAX_BYTES = 20
    response = post(client, owner, meter, GOOD)
    assert response.context["form"].errors == {
        "file": [
            "This file is 73\xa0bytes; the page takes files up to 20\xa0bytes. Split it, or import it with "
            "`manage.py import_readings`."
        ]
    }


def test_viewers_cannot_import_and_outsiders_do_not_see_the_page(client, viewer, outsider, meter):
    for user, status in ((viewer, 403), (outsider, 404)):
        client.force_login(user)
        assert client.get(url(meter)).status_code == status
        assert client.post(url(meter), {"file": upload(GOOD), "timezone": "UTC"}).status_code == status
    assert Reading.objects.count() == 0


def test_the_import_page_takes_the_same_queries_however_many_readings(client, owner, meter):
    from homelog.testing import assert_constant_queries

    client.force_login(owner)
    assert_constant_queries(
        client,
        url(meter),
        lambda n: ReadingFactory.create_batch(n, data_source=meter, values={"volume": 1.0}),
        10,
        300,
    )
