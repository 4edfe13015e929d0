import datetime as dt

import pytest
from django.urls import reverse

from homelog.testing import assert_constant_queries, queries_to_get
from readings.admin import ReadingsPaginator
from readings.models import Reading
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def grow_readings_over_sources(n):
    for _ in range(n):
        ReadingFactory(data_source=DataSourceFactory())


def test_changelist_runs_a_constant_number_of_queries(admin_client):
    assert_constant_queries(
        admin_client, reverse("admin:readings_reading_changelist"), grow_readings_over_sources
    )


def test_filtered_changelists_run_a_constant_number_of_queries(admin_client):
    source = DataSourceFactory()
    url = reverse("admin:readings_reading_changelist")
    filtered = f"{url}?data_source__id__exact={source.pk}&timestamp__year=2025"
    assert_constant_queries(
        admin_client, filtered, lambda n: ReadingFactory.create_batch(n, data_source=source)
    )


def test_changelist_does_not_count_the_whole_table_twice(admin_client):
    ReadingFactory.create_batch(3)
    url = reverse("admin:readings_reading_changelist")
    response = admin_client.get(url, {"q": "Meter"})
    # show_full_result_count = False: the page offers "Show all" instead of a second COUNT(*).
    assert "Show all" in response.content.decode()
    assert queries_to_get(admin_client, url) == queries_to_get(admin_client, url)


def test_change_form_validates_values_against_the_source(admin_client):
    reading = ReadingFactory(values={"energy": 1.0})
    response = admin_client.post(
        reverse("admin:readings_reading_change", args=[reading.pk]),
        {
            "id": str(reading.pk),
            "data_source": reading.data_source_id,
            "timestamp_0": "2025-01-01",
            "timestamp_1": "00:00:00",
            "values": '{"energy": "lots"}',
        },
    )
    assert response.status_code == 200
    assert "Value of &#x27;energy&#x27; must be a number, not &#x27;lots&#x27;." in response.content.decode()
    reading.refresh_from_db()
    assert reading.values == {"energy": 1.0}


def test_pages_are_read_by_their_keys_and_counted_from_the_sources(admin_client):
    meter, other = DataSourceFactory(name="Meter"), DataSourceFactory(name="Boiler")
    moments = [dt.datetime(2025, 1, 1, hour, tzinfo=dt.UTC) for hour in range(5)]
    for moment in moments:
        ReadingFactory(data_source=meter, timestamp=moment)
        ReadingFactory(data_source=other, timestamp=moment)
    paginator = ReadingsPaginator(Reading.objects.order_by("-timestamp", "-data_source_id"), 3)
    assert paginator.count == 10
    assert [(r.data_source_id, r.timestamp) for r in paginator.page(2).object_list] == [
        (max(meter.pk, other.pk) if n % 2 == 0 else min(meter.pk, other.pk), moments[3 - n // 2])
        for n in range(1, 4)
    ]
    bounded = ReadingsPaginator(Reading.objects.filter(data_source=meter), 2, count_bound=3)
    assert bounded.count == 3
    url = reverse("admin:readings_reading_changelist")
    # The sources' counters give the count, unfiltered, by source and by household; a search, by source name.
    for query, shown in [
        ({}, "10 readings"),
        ({"data_source__id__exact": meter.pk}, "5 readings"),
        ({"data_source__household__id__exact": meter.household_id}, "5 readings"),
        ({"q": "boil"}, "5 readings"),
        ({"data_source__id__exact": "x"}, None),
    ]:
        response = admin_client.get(url, query)
        if shown is None:
            assert response.status_code == 302  # Django's own answer to a bad filter value
            continue
        assert response.status_code == 200
        assert shown in response.content.decode()


def test_delete_selected_announces_the_change(admin_client, django_capture_on_commit_callbacks):
    from readings.changes import readings_changed

    heard = []

    def listener(sender, source_ids, **kwargs):
        heard.append(source_ids)

    first, second = ReadingFactory(), ReadingFactory()
    readings_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                reverse("admin:readings_reading_changelist"),
                {"action": "delete_selected", "_selected_action": [str(first.pk)], "post": "yes"},
            )
    finally:
        readings_changed.disconnect(listener)
    assert response.status_code == 302
    assert list(Reading.objects.values_list("pk", flat=True)) == [second.pk]
    assert heard == [frozenset({first.data_source_id})]
