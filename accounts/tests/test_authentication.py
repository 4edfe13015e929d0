"""Bearer tokens with the user cached in Redis: no query for the user, and revocation still at once."""

import datetime as dt
import time
import uuid

import jwt
import pytest
import redis
from django.contrib.auth.models import update_last_login
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import CHANGED, JWTAuthentication, _current_epoch, _key, forget_user
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD
from homelog.api.fixtures import bearer_client
from homelog.testing import queries_to_get
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

# The database number the tests and the benchmark of this checkout use; a key prefix of its own per test keeps
# other runs' entries (other databases, the same user ids) out of sight.
REDIS_URL = "redis://127.0.0.1:6379/6"
NEW_PASSWORD = "a-much-better-passphrase-2025"


@pytest.fixture
def user_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "homelog.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    # Short, so that what a test leaves behind soon expires.
    settings.JWT_USER_CACHE_SECONDS = 60
    # A process reads the epoch once a second; read here, so that the counts below are those of the requests.
    settings.USER_CACHE_EPOCH_SECONDS = 3600
    _current_epoch()
    return cache


def settled(*users):
    """As a minute after the users were last saved (the factories save twice): their change markers gone."""
    cache.delete_many([_key(user.pk) for user in users])


def validate(client):
    return client.get("/api/auth/validate")


def cached_client(user):
    """A bearer client for `user`, whose entry its first request has put in the cache."""
    settled(user)
    client = bearer_client(user)
    assert validate(client).status_code == 200
    assert isinstance(cache.get(_key(user.pk)), tuple)
    return client


def refused(response):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    return response.json()


def test_a_cached_user_is_authenticated_without_a_query(user_cache, owner, django_assert_num_queries):
    settled(owner)
    client = bearer_client(owner)
    with django_assert_num_queries(1):  # the user, once
        assert validate(client).json() == {"id": owner.pk, "email": owner.email}
    with django_assert_num_queries(0):
        response = validate(client)
    assert response.json() == {"id": owner.pk, "email": owner.email}


def test_the_cached_user_has_the_users_fields_but_not_the_password_hash(user_cache, staff_user):
    settled(staff_user)
    token = AccessToken.for_user(staff_user)
    JWTAuthentication().get_user(token)
    _, _, values = user_cache.get(_key(staff_user.pk))
    assert staff_user.password not in values
    user = JWTAuthentication().get_user(token)
    assert (user.pk, user.email, user.is_staff, user.is_active, user.date_joined) == (
        staff_user.pk,
        staff_user.email,
        True,
        True,
        staff_user.date_joined,
    )
    assert user.get_deferred_fields() == {"password", "last_login"}


def test_the_readings_list_then_takes_one_query(user_cache, api, owner, household):
    meter = DataSourceFactory(household=household)
    ReadingFactory.create_batch(3, data_source=meter)
    settled(owner)
    client = api(owner)
    url = f"/api/sources/{meter.pk}/readings"
    assert queries_to_get(client, url) == 2  # the user, then the readings
    assert queries_to_get(client, url) == 1


def test_a_kept_copy_answers_without_the_shared_entry(user_cache, owner, django_assert_num_queries):
    client = cached_client(owner)
    user_cache.delete(_key(owner.pk))  # evicted from Redis, say: only this process's copy is left
    with django_assert_num_queries(0):
        assert validate(client).json() == {"id": owner.pk, "email": owner.email}


def test_a_change_made_in_another_process_is_seen_at_once(user_cache, owner):
    client = cached_client(owner)
    # Another worker deactivates the user: the row, its marker, and the announcement from its own connection.
    User.objects.filter(pk=owner.pk).update(is_active=False)
    user_cache.set(_key(owner.pk), CHANGED)
    server = redis.Redis.from_url(REDIS_URL)
    assert server.publish(user_cache.make_key("auth-user-changes"), str(owner.pk)) == 1
    server.close()
    assert refused(validate(client))["code"] == "user_inactive"


def test_a_password_change_revokes_cached_tokens_at_once(user_cache, owner):
    old = cached_client(owner)
    assert (
        old.put(
            "/api/auth/password", {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD}
        ).status_code
        == 204
    )
    assert refused(validate(old)) == {
        "detail": "The user's password has been changed.",
        "code": "password_changed",
    }
    owner.refresh_from_db()
    assert validate(bearer_client(owner)).status_code == 200


def test_a_password_set_anywhere_else_revokes_too(user_cache, owner):
    old = cached_client(owner)
    user = User.objects.get(pk=owner.pk)  # as the admin or the password-reset page change it
    user.set_password(NEW_PASSWORD)
    user.save()
    assert refused(validate(old))["code"] == "password_changed"


def test_deactivation_revokes_cached_tokens_at_once(user_cache, owner):
    client = cached_client(owner)
    owner.is_active = False
    owner.save()
    assert refused(validate(client)) == {"detail": "User is inactive", "code": "user_inactive"}


def test_deleting_the_user_revokes_cached_tokens_at_once(user_cache, owner):
    client = cached_client(owner)
    User.objects.filter(pk=owner.pk).delete()
    assert refused(validate(client)) == {"detail": "User not found", "code": "user_not_found"}


def test_a_staff_flag_taken_away_is_seen_at_once(user_cache, staff_user):
    client = cached_client(staff_user)
    assert client.get("/api/users").status_code == 200
    staff_user.is_staff = False
    staff_user.save(update_fields=["is_staff"])
    assert client.get("/api/users").status_code == 403


def test_what_a_request_read_before_a_change_cannot_overwrite_it(user_cache, owner):
    token = AccessToken.for_user(owner)
    before = User.objects.get(pk=owner.pk)  # a request read the user ...
    changed = User.objects.get(pk=owner.pk)
    changed.set_password(NEW_PASSWORD)
    changed.save()  # ... the password changed ...
    JWTAuthentication()._remember(before)  # ... and then the request cached what it had read
    assert user_cache.get(_key(owner.pk)) == CHANGED
    assert refused(validate(bearer_client_with(token)))["code"] == "password_changed"


def test_the_change_is_marked_again_when_it_commits(user_cache, owner, django_capture_on_commit_callbacks):
    token = AccessToken.for_user(owner)
    before = User.objects.get(pk=owner.pk)
    with django_capture_on_commit_callbacks(execute=True):
        owner.is_active = False
        owner.save()
        # Another connection, which still sees the row as it was, finds no entry after the marker expired.
        user_cache.delete(_key(owner.pk))
        JWTAuthentication()._remember(before)
    assert user_cache.get(_key(owner.pk)) == CHANGED
    assert refused(validate(bearer_client_with(token)))["code"] == "user_inactive"


def test_saving_only_the_last_login_keeps_the_entry(user_cache, owner, django_assert_num_queries):
    client = cached_client(owner)
    update_last_login(None, owner)
    with django_assert_num_queries(0):
        assert validate(client).status_code == 200


def test_forget_user_is_what_a_queryset_update_must_call(user_cache, owner):
    client = cached_client(owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    forget_user(owner.pk)
    assert refused(validate(client))["code"] == "user_inactive"


def test_an_entry_that_refuses_the_token_is_checked_against_the_database(user_cache, owner):
    # Entries written for another database behind the same Redis, or by an older release, never refuse.
    token = AccessToken.for_user(owner)
    user_cache.set(_key(owner.pk), ("0" * 32, ("anything",)))
    assert validate(bearer_client_with(token)).status_code == 200
    values = tuple(getattr(owner, name) for name in ("id", "email", "display_name"))
    user_cache.set(_key(owner.pk), ("0" * 32, values))
    assert validate(bearer_client_with(token)).status_code == 200


def test_without_the_cache_the_database_answers(settings, owner, django_assert_num_queries):
    settings.CACHES = {
        "default": {
            "BACKEND": "homelog.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.JWT_USER_CACHE_SECONDS = 300
    client = bearer_client(owner)
    with django_assert_num_queries(1):
        assert validate(client).status_code == 200
    owner.is_active = False
    owner.save()  # recorded by moving the epoch (test_redis_outage.py)
    assert validate(client).status_code == 401


def test_off_by_default_without_redis(owner, django_assert_num_queries):
    client = bearer_client(owner)
    for _ in range(2):
        with django_assert_num_queries(1):
            assert validate(client).status_code == 200


def bearer_client_with(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_user_changed_a_moment_ago_is_read_from_the_database(user_cache, owner, django_assert_num_queries):
    client = bearer_client(owner)  # the factory has just saved the user's password
    for _ in range(2):
        with django_assert_num_queries(1):
            assert validate(client).status_code == 200
    assert user_cache.get(_key(owner.pk)) == CHANGED


def test_a_token_is_verified_once_however_often_it_is_sent(owner):
    from accounts.authentication import _verified_token

    client = bearer_client(owner)
    before = _verified_token.cache_info()
    for _ in range(3):
        assert validate(client).status_code == 200
    after = _verified_token.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)


def test_a_verified_token_that_expires_is_refused(owner):
    token = AccessToken.for_user(owner)
    token.set_exp(lifetime=dt.timedelta(seconds=1))
    client = bearer_client_with(token)
    assert validate(client).status_code == 200
    time.sleep(1.1)
    assert refused(validate(client)) == {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
    }


def test_a_token_signed_with_another_key_is_refused_every_time(owner):
    from accounts.authentication import _verified_token

    forged = AccessToken.for_user(owner)
    forged_text = jwt.encode(forged.payload, "not-the-signing-key-of-this-site-at-all", algorithm="HS256")
    client = bearer_client_with(forged_text)
    before = _verified_token.cache_info()
    for _ in range(2):
        assert refused(validate(client))["code"] == "token_not_valid"
    after = _verified_token.cache_info()
    # Checked each time: a refused token is not kept.
    assert (after.misses - before.misses, after.hits - before.hits) == (2, 0)
