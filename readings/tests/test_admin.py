import datetime as dt

import pytest
from django.urls import reverse

from homelog.testing import assert_constant_queries, queries_to_get
from readings.admin import EstimatedCountPaginator
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


def test_estimated_paginator_counts_exactly_when_filtered_or_small():
    source = DataSourceFactory()
    for hour in range(3):
        ReadingFactory(data_source=source, timestamp=dt.datetime(2025, 1, 1, hour, tzinfo=dt.UTC))
    assert EstimatedCountPaginator(Reading.objects.order_by("pk"), 100).count == 3
    assert EstimatedCountPaginator(Reading.objects.filter(data_source=source).order_by("pk"), 100).count == 3


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
