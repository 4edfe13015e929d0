"""Through a Redis outage: logins, password changes and deactivations are answered, and nothing the cache held
before it is trusted after it when a change could not reach it."""

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.api.throttles import LOCAL_COUNTS
from accounts.authentication import _key
from accounts.models import UserCacheEpoch
from accounts.tests.factories import DEFAULT_PASSWORD
from homelog.api.fixtures import bearer_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-better-passphrase-2025"


@pytest.fixture
def redis_away(redis_through_forwarder, settings):
    """Redis with the bearer-token user cache on; `cut()` and `restore()` it."""
    settings.JWT_USER_CACHE_SECONDS = 60
    LOCAL_COUNTS.clear()
    yield redis_through_forwarder
    LOCAL_COUNTS.clear()


def validate(client):
    return client.get("/api/auth/validate").status_code


def cached_client(user):
    """A bearer client whose user is in the cache, as a minute after the user was last saved."""
    cache.delete(_key(user.pk))  # the factory's change marker
    client = bearer_client(user)
    assert validate(client) == 200
    assert isinstance(cache.get(_key(user.pk)), tuple)
    return client


def test_a_user_deactivated_while_redis_is_away_is_refused_then_and_once_it_is_back(
    redis_away, owner, django_capture_on_commit_callbacks
):
    client = cached_client(owner)
    redis_away.cut()
    owner.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        owner.save()
    assert validate(client) == 401
    redis_away.restore()
    assert isinstance(cache.get(_key(owner.pk)), tuple)  # what Redis held before the outage...
    assert validate(client) == 401  # ...is not trusted
    assert validate(client) == 401


def test_a_password_changed_while_redis_is_away_ends_the_old_tokens(
    redis_away, owner, django_capture_on_commit_callbacks
):
    client = cached_client(owner)
    redis_away.cut()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(
            "/api/auth/password",
            {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD},
            format="json",
        )
    assert response.status_code == 204
    assert validate(client) == 401
    redis_away.restore()
    assert validate(client) == 401


def test_an_entry_made_before_another_process_moved_the_epoch_is_not_trusted(redis_away, settings, owner):
    client = cached_client(owner)
    settings.USER_CACHE_EPOCH_SECONDS = 0  # read the epoch at every request
    owner.__class__.objects.filter(pk=owner.pk).update(is_active=False)  # bypassing forget_user...
    assert validate(client) == 200  # ...the entry still accepts
    UserCacheEpoch.move()  # as a process that could not reach Redis does
    assert validate(client) == 401


def login(client, email, password=DEFAULT_PASSWORD):
    return client.post("/api/auth/login", {"username": email, "password": password}, format="json")


# The limit's windows are fixed minutes: the test stays inside one, wherever the clock is when it runs.
@time_machine.travel("2026-01-05 12:00:10+00:00", tick=False)
def test_logins_are_answered_and_limited_in_the_process_while_redis_is_away(redis_away, settings, owner):
    settings.LOGIN_FAILURE_RATE = "3/min"
    client = APIClient()
    redis_away.cut()
    response = login(client, owner.email)
    assert response.status_code == 200
    assert set(response.json()) >= {"access_token", "refresh_token", "token_type"}
    assert [login(client, owner.email, "wrong").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert login(client, owner.email).status_code == 429
    redis_away.restore()


def test_the_sign_in_page_works_while_redis_is_away(redis_away, client, owner):
    redis_away.cut()
    response = client.post("/account/sign-in/", {"username": owner.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    redis_away.restore()
