"""The cache is shared by every worker process: Redis when REDIS_URL is set, else a database table."""

import uuid

from homelog.tests.processes import django_python, production_environment

REDIS_URL = "redis://127.0.0.1:6379/6"

BACKEND = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"


def test_without_redis_the_cache_is_a_database_table():
    assert django_python(BACKEND, production_environment()) == "django.core.cache.backends.db.DatabaseCache"


def test_with_redis_one_process_reads_what_another_wrote():
    env = production_environment(REDIS_URL=REDIS_URL)
    assert django_python(BACKEND, env) == "homelog.cache.RedisCache"
    key, value = f"test-shared-{uuid.uuid4().hex}", uuid.uuid4().hex
    django_python(f"from django.core.cache import cache; cache.set({key!r}, {value!r}, 60)", env)
    read = django_python(
        f"from django.core.cache import cache; print(cache.get({key!r})); cache.delete({key!r})", env
    )
    assert read == value


def test_the_test_database_has_the_cache_table(db):
    from django.core.cache import cache

    cache.set("answer", 42)
    assert cache.get("answer") == 42


def test_the_redis_cache_keeps_one_client(settings):
    from django.core.cache import caches

    settings.CACHES = {
        "default": {"BACKEND": "homelog.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "test-client"}
    }
    cache = caches["default"]
    key = f"test-client-{uuid.uuid4().hex}"
    cache.set(key, {"a": 1}, 60)
    assert cache.get(key) == {"a": 1}
    assert cache.add(f"{key}-n", 1, 60) is True
    assert cache.incr(f"{key}-n") == 2
    cache.delete_many([key, f"{key}-n"])
    assert cache.get(key) is None
    clients = cache._cache._clients
    assert len(clients) == 1
    assert cache._cache.get_client(write=True) is cache._cache.get_client() is next(iter(clients.values()))
