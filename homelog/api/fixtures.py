"""pytest fixtures for API tests (loaded by the root conftest.py)."""

import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from homelog.tests.forwarder import Forwarder

# The Redis database the tests of this checkout use; each test's key prefix keeps other tests' entries apart.
TEST_REDIS = ("127.0.0.1", 6379, 6)


def bearer_client(user=None):
    """An APIClient that sends `user`'s real access token (anonymous when `user` is None)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def api():
    """`api(user)`: a client authenticated as `user` with a bearer token; `api()` is anonymous."""
    return bearer_client


@pytest.fixture
def empty_cache():
    """Failed-login counters live in the cache: start each throttling test from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def redis_through_forwarder(settings):
    """The default cache in Redis, reached through a `Forwarder` that the test can `cut()` and `restore()`,
    with timeouts short enough for an outage to be noticed within the test."""
    host, port, database = TEST_REDIS
    with Forwarder((host, port)) as forwarder:
        settings.CACHES = {
            "default": {
                "BACKEND": "homelog.cache.RedisCache",
                "LOCATION": f"redis://{forwarder.url_host}/{database}",
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        }
        yield forwarder
