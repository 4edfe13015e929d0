import datetime as dt
import hashlib

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from homelog.testing import assert_constant_queries
from sources.authentication import DeviceTokenAuthentication
from sources.models import DeviceToken
from sources.tests.factories import DataSourceFactory, DeviceTokenFactory

pytestmark = pytest.mark.django_db


def test_issuing_returns_the_secret_once_and_keeps_only_its_hash(owner):
    source = DataSourceFactory()
    token, secret = DeviceToken.issue(data_source=source, name="Hallway reader", created_by=owner)
    stored = DeviceToken.objects.get()
    assert stored == token
    assert secret.startswith("hlt_") and len(secret) == 47
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.prefix == secret[:12]
    assert secret not in {getattr(stored, field.attname) for field in DeviceToken._meta.fields}
    assert (stored.name, stored.data_source, stored.created_by) == ("Hallway reader", source, owner)
    assert str(stored) == f"Hallway reader ({secret[:12]}…)"


def test_only_an_active_token_is_found_by_its_secret():
    token, secret = DeviceToken.issue(data_source=DataSourceFactory(), name="Reader")
    assert DeviceToken.objects.for_secret(secret) == token
    assert DeviceToken.objects.for_secret(secret + "x") is None
    token.revoke()
    assert token.is_revoked
    assert DeviceToken.objects.for_secret(secret) is None


def test_use_is_recorded_at_most_once_a_minute(django_assert_num_queries):
    token = DeviceTokenFactory()
    with django_assert_num_queries(1):
        token.record_use()
    first_use = DeviceToken.objects.get().last_used_at
    assert first_use is not None
    with django_assert_num_queries(0):
        token.record_use()
    token.last_used_at = timezone.now() - dt.timedelta(minutes=2)
    with django_assert_num_queries(1):
        token.record_use()
    assert DeviceToken.objects.get().last_used_at > first_use


def test_manageable_by_owners_only(household, owner, member, viewer, outsider):
    token = DeviceTokenFactory(data_source=DataSourceFactory(household=household))
    assert list(DeviceToken.objects.manageable_by(owner)) == [token]
    for user in (member, viewer, outsider, AnonymousUser()):
        assert list(DeviceToken.objects.manageable_by(user)) == []


def authenticate(header):
    request = APIRequestFactory().post("/", HTTP_AUTHORIZATION=header)
    return DeviceTokenAuthentication().authenticate(request)


def test_authentication_gives_an_anonymous_user_and_the_token():
    token, secret = DeviceToken.issue(data_source=DataSourceFactory(), name="Reader")
    user, auth = authenticate(f"Token {secret}")
    assert not user.is_authenticated
    assert auth == token
    assert DeviceToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Token", "Give the device token as 'Authorization: Token <secret>'."),
        ("Token a b", "Give the device token as 'Authorization: Token <secret>'."),
        ("Token hlt_not-a-token", "The device token is not valid or has been revoked."),
    ],
)
def test_authentication_refuses_a_bad_header(header, message):
    with pytest.raises(AuthenticationFailed) as exc:
        authenticate(header)
    assert str(exc.value.detail) == message


def test_authentication_refuses_a_revoked_token_and_ignores_other_schemes():
    token, secret = DeviceToken.issue(data_source=DataSourceFactory(), name="Reader")
    token.revoke()
    with pytest.raises(AuthenticationFailed):
        authenticate(f"Token {secret}")
    assert authenticate(f"Bearer {secret}") is None


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_admin_changelist_runs_a_constant_number_of_queries(admin_client):
    assert_constant_queries(
        admin_client,
        reverse("admin:sources_devicetoken_changelist"),
        lambda n: DeviceTokenFactory.create_batch(n, data_source=DataSourceFactory()),
    )


def test_admin_shows_a_new_secret_once_and_revokes(admin_client, staff_user):
    source = DataSourceFactory()
    response = admin_client.post(
        reverse("admin:sources_devicetoken_add"), {"name": "Garage", "data_source": source.pk}, follow=True
    )
    token = DeviceToken.objects.get()
    page = response.content.decode()
    secret = page.split("The secret of “Garage” is ")[1].split(" ")[0]
    assert DeviceToken.objects.for_secret(secret) == token
    assert token.created_by == staff_user

    response = admin_client.get(reverse("admin:sources_devicetoken_change", args=[token.pk]))
    assert secret not in response.content.decode()

    response = admin_client.post(
        reverse("admin:sources_devicetoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert "Revoked 1 token(s)." in response.content.decode()
    token.refresh_from_db()
    assert token.is_revoked
