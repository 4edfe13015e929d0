import pytest
from django.urls import reverse

from homelog.testing import assert_constant_queries
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


def test_changelist_runs_a_constant_number_of_queries(client, staff_user):
    client.force_login(staff_user)
    assert_constant_queries(
        client, reverse("admin:sources_datasource_changelist"), DataSourceFactory.create_batch
    )


def test_changelist_shows_metrics_and_change_form_opens(client, staff_user):
    client.force_login(staff_user)
    source = DataSourceFactory(
        name="Main meter",
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}},
    )
    response = client.get(reverse("admin:sources_datasource_changelist"))
    assert "energy (kWh), power (W)" in response.content.decode()
    response = client.get(reverse("admin:sources_datasource_change", args=[source.pk]))
    assert response.status_code == 200


def change(client, source, metrics):
    return client.post(
        reverse("admin:sources_datasource_change", args=[source.pk]),
        {
            "household": source.household_id,
            "name": source.name,
            "type": "gas",
            "metrics": metrics,
            "is_active": "on",
        },
    )


def test_change_form_rejects_bad_metrics(client, staff_user):
    client.force_login(staff_user)
    source = DataSourceFactory()
    response = change(
        client,
        source,
        '{"Gas Volume": {"unit": "m3", "cumulative": true}, "ID": {"unit": "", "cumulative": false}}',
    )
    assert response.status_code == 200
    assert (
        "Metric name &#x27;ID&#x27; is reserved: every reading has an &#x27;id&#x27; and a "
        "&#x27;timestamp&#x27; column in CSV." in response.content.decode()
    )
    source.refresh_from_db()
    assert source.type == "electricity"


def test_change_form_takes_the_names_the_api_takes(client, staff_user):
    client.force_login(staff_user)
    source = DataSourceFactory()
    response = change(client, source, '{"Gas Volume": {"unit": "", "cumulative": true}}')
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.metrics == {"Gas Volume": {"unit": "", "cumulative": True}}
