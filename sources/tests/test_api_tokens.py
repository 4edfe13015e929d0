import pytest
from rest_framework.test import APIClient

from homelog.testing import assert_constant_queries
from sources.models import DeviceToken
from sources.tests.factories import DataSourceFactory, DeviceTokenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meter(household):
    return DataSourceFactory(household=household)


def tokens_url(source, token=None):
    url = f"/api/sources/{source.pk}/tokens"
    return f"{url}/{token.pk}" if token else url


def test_an_owner_issues_a_token_and_sees_its_secret_once(api, owner, meter):
    response = api(owner).post(tokens_url(meter), {"name": "Hallway reader"}, format="json")
    assert response.status_code == 201
    body = response.json()
    token = DeviceToken.objects.get()
    assert body == {
        "id": token.pk,
        "data_source_id": meter.pk,
        "name": "Hallway reader",
        "prefix": body["secret"][:12],
        "created_by_id": owner.pk,
        "created_at": token.created_at.isoformat().replace("+00:00", "Z"),
        "last_used_at": None,
        "revoked_at": None,
        "secret": body["secret"],
    }
    assert DeviceToken.objects.for_secret(body["secret"]) == token
    listed = api(owner).get(tokens_url(meter)).json()
    assert [row["id"] for row in listed] == [token.pk]
    assert "secret" not in listed[0]
    assert "secret" not in api(owner).get(tokens_url(meter, token)).json()

    device = APIClient()
    device.credentials(HTTP_AUTHORIZATION=f"Token {body['secret']}")
    reading = {"timestamp": "2025-03-01T12:00:00Z", "values": {"energy": 1}}
    assert device.post(f"/api/sources/{meter.pk}/readings", reading, format="json").status_code == 201
    assert api(owner).get(tokens_url(meter, token)).json()["last_used_at"] is not None


def test_a_token_needs_a_name(api, owner, meter):
    response = api(owner).post(tokens_url(meter), {"name": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"name": ["This field may not be blank."]}
    assert not DeviceToken.objects.exists()


def test_deleting_a_token_revokes_it(api, owner, meter):
    token, secret = DeviceToken.issue(data_source=meter, name="Reader")
    device = APIClient()
    device.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    reading = {"timestamp": "2025-03-01T12:00:00Z", "values": {"energy": 1}}
    assert device.post(f"/api/sources/{meter.pk}/readings", reading, format="json").status_code == 201
    assert api(owner).delete(tokens_url(meter, token)).status_code == 204
    token.refresh_from_db()
    assert token.is_revoked
    assert api(owner).get(tokens_url(meter)).json()[0]["revoked_at"] is not None
    reading["timestamp"] = "2025-03-01T13:00:00Z"
    assert device.post(f"/api/sources/{meter.pk}/readings", reading, format="json").status_code == 401


def test_members_and_viewers_may_not_manage_tokens_and_outsiders_do_not_see_them(
    api, member, viewer, outsider, meter
):
    token = DeviceTokenFactory(data_source=meter)
    for user in (member, viewer):
        for response in (
            api(user).get(tokens_url(meter)),
            api(user).post(tokens_url(meter), {"name": "Mine"}, format="json"),
            api(user).delete(tokens_url(meter, token)),
        ):
            assert (response.status_code, response.json()["detail"]) == (
                403,
                "Only the household's owners can manage its device tokens.",
            )
    for response in (
        api(outsider).get(tokens_url(meter)),
        api(outsider).post(tokens_url(meter), {"name": "Mine"}, format="json"),
        api(outsider).delete(tokens_url(meter, token)),
    ):
        assert response.status_code == 404
    assert api().get(tokens_url(meter)).status_code == 401
    other_token = DeviceTokenFactory()
    assert api(outsider).get(f"/api/sources/{meter.pk}/tokens/{other_token.pk}").status_code == 404
    token.refresh_from_db()
    assert not token.is_revoked
    assert DeviceToken.objects.count() == 2


def test_token_list_runs_a_constant_number_of_queries(api, owner, meter):
    assert_constant_queries(
        api(owner), tokens_url(meter), lambda n: DeviceTokenFactory.create_batch(n, data_source=meter)
    )


def test_an_issued_token_says_where_it_is(api, owner, meter):
    client = api(owner)
    response = client.post(tokens_url(meter), {"name": "Hallway reader"}, format="json")
    assert response.status_code == 201
    token = DeviceToken.objects.get()
    assert response.headers["Location"] == f"http://testserver/api/sources/{meter.pk}/tokens/{token.pk}"
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200
    assert shown.json()["id"] == token.pk
