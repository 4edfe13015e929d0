"""pytest fixtures for API tests (loaded by the root conftest.py)."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken


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
