import pytest
from django.urls import reverse

from homelog.testing import assert_constant_queries
from sources.models import DeviceToken
from sources.tests.factories import DataSourceFactory


@pytest.fixture
def meter(household):
    return DataSourceFactory(household=household, name="Electricity meter")


def url(source):
    return reverse("sources:token-list", args=[source.pk])


def test_an_owner_issues_a_token_and_sees_its_secret_once(client, owner, meter):
    client.force_login(owner)
    assert client.get(url(meter)).status_code == 200

    response = client.post(url(meter), {"name": "Hallway reader"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = DeviceToken.objects.get()
    secret = response.context["secret"]
    assert secret.startswith("hlt_") and token.prefix == secret[:12]
    assert DeviceToken.objects.for_secret(secret) == token
    assert (token.data_source, token.name, token.created_by) == (meter, "Hallway reader", owner)
    html = response.content.decode()
    assert f'value="{secret}"' in html
    assert f'-H "Authorization: Token {secret}"' in html
    assert f"curl -X POST http://testserver/api/sources/{meter.pk}/readings" in html
    assert "Copy it now: it is not stored and will not be shown again." in html
    # Never again.
    assert secret not in client.get(url(meter)).content.decode()


def test_a_token_needs_a_name(client, owner, meter):
    client.force_login(owner)
    response = client.post(url(meter), {"name": ""})
    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert DeviceToken.objects.count() == 0


def test_an_owner_revokes_a_token(client, owner, meter):
    token, secret = DeviceToken.issue(data_source=meter, name="Old reader")
    client.force_login(owner)

    response = client.post(reverse("sources:token-revoke", args=[meter.pk, token.pk]), follow=True)

    assert [str(m) for m in response.context["messages"]] == ["Old reader can no longer send readings."]
    token.refresh_from_db()
    assert token.is_revoked
    assert DeviceToken.objects.for_secret(secret) is None
    assert "Revoked</span>" in response.content.decode()


def test_only_owners_manage_tokens(client, member, viewer, outsider, meter):
    token, _ = DeviceToken.issue(data_source=meter, name="Reader")
    for user, status in ((member, 403), (viewer, 403), (outsider, 404)):
        client.force_login(user)
        assert client.get(url(meter)).status_code == status
        assert client.post(url(meter), {"name": "Mine"}).status_code == status
        assert client.post(reverse("sources:token-revoke", args=[meter.pk, token.pk])).status_code == status
    token.refresh_from_db()
    assert not token.is_revoked
    assert DeviceToken.objects.count() == 1


def test_a_token_of_another_source_cannot_be_revoked_through_this_one(client, owner, meter, household):
    other = DataSourceFactory(household=household)
    token, _ = DeviceToken.issue(data_source=other, name="Reader")
    client.force_login(owner)
    assert client.post(reverse("sources:token-revoke", args=[meter.pk, token.pk])).status_code == 404
    token.refresh_from_db()
    assert not token.is_revoked


def test_revoking_is_a_post(client, owner, meter):
    token, _ = DeviceToken.issue(data_source=meter, name="Reader")
    client.force_login(owner)
    assert client.get(reverse("sources:token-revoke", args=[meter.pk, token.pk])).status_code == 405


def test_the_token_page_takes_the_same_queries_for_2_and_40_tokens(client, owner, meter):
    client.force_login(owner)

    def grow(n):
        for i in range(n):
            DeviceToken.issue(data_source=meter, name=f"Reader {i}", created_by=owner)

    assert_constant_queries(client, url(meter), grow, small=2, large=40)
