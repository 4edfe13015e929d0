"""The cache is shared by every worker process: Redis when REDIS_URL is set, else a database table."""

import os
import time
import uuid
from time import monotonic

import pytest
import redis

from homelog import cache as cache_module
from homelog.cache import LocalCopies, local_copies
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


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis, under a key prefix (and so channel names) of this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "homelog.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    made = []

    def copies(seconds=60, **kwargs):
        made.append(LocalCopies("changes", seconds, **kwargs))
        return made[-1]

    yield copies
    for copies in made:
        copies.close()


def another_process_announces(key):
    """What `announce` sends, from a client of its own, as another worker process would."""
    from django.core.cache import cache

    server = redis.Redis.from_url(REDIS_URL)
    assert server.publish(cache.make_key("changes"), key) == len(subscribers(server))
    server.close()


def subscribers(server):
    return [client for client in server.client_list() if client["name"].startswith("homelog-copies-")]


def test_a_copy_is_read_without_asking_redis(redis_cache):
    copies = redis_cache()
    assert copies.keep("7", ("entry",), copies.version()) is True
    server = redis.Redis.from_url(REDIS_URL)
    before = commands_run(server)
    assert [copies.get("7") for _ in range(3)] == [("entry",)] * 3
    assert commands_run(server) == before
    server.close()


def commands_run(server):
    """Commands the Redis server has run, but for this count's own INFO."""
    stats = server.info("commandstats")
    return sum(stat["calls"] for name, stat in stats.items() if name != "cmdstat_info")


def test_a_change_announced_by_another_process_drops_the_copy_at_once(redis_cache):
    copies = redis_cache()
    copies.keep("7", ("entry",), copies.version())
    copies.keep("8", ("other",), copies.version())
    another_process_announces("7")
    assert (copies.get("7"), copies.get("8")) == (None, ("other",))


def test_announcements_that_arrive_together_are_all_applied(redis_cache):
    """Redis may send several messages in one read: those left in the parser are applied too, not only
    those still on the socket."""
    from django.core.cache import cache

    copies = redis_cache()
    for key in ("7", "8", "9", "10"):
        copies.keep(key, (key,), copies.version())
    server = redis.Redis.from_url(REDIS_URL)
    with server.pipeline(transaction=False) as pipe:
        for key in ("7", "8", "9"):
            pipe.publish(cache.make_key("changes"), key)
        pipe.execute()
    time.sleep(0.05)  # all three on this process's socket before it looks
    assert [copies.get(key) for key in ("7", "8", "9", "10")] == [None, None, None, ("10",)]
    another_process_announces("10")
    assert copies.get("10") is None
    server.close()


def test_an_announcement_reaches_every_process_and_the_announcer(redis_cache):
    first, second = redis_cache(), redis_cache()
    for copies in (first, second):
        copies.keep("7", ("entry",), copies.version())
    first.announce("7")
    assert (first.get("7"), second.get("7")) == (None, None)


def test_what_was_read_before_a_change_is_not_kept(redis_cache):
    copies = redis_cache()
    version = copies.version()
    another_process_announces("7")  # ... while the entry was being read
    assert copies.keep("7", ("stale",), version) is False
    assert copies.get("7") is None
    assert copies.keep("7", ("fresh",), copies.version()) is True
    assert copies.get("7") == ("fresh",)


def test_losing_the_subscription_drops_every_copy_until_it_is_back(redis_cache, monkeypatch):
    copies = redis_cache()
    copies.keep("7", ("entry",), copies.version())
    server = redis.Redis.from_url(REDIS_URL)
    (subscription,) = [client for client in subscribers(server) if client["name"].endswith(f"-{os.getpid()}")]
    server.client_kill_filter(_id=subscription["id"])
    another_process_announces("7")  # sent while nobody listens: lost
    assert copies.get("7") is None
    assert copies.version() is None  # nothing can be kept until the subscription is back
    later = monotonic() + LocalCopies.RESUBSCRIBE_SECONDS
    monkeypatch.setattr(cache_module, "monotonic", lambda: later)
    version = copies.version()
    assert version is not None
    assert copies.keep("7", ("entry",), version) is True
    another_process_announces("7")
    assert copies.get("7") is None
    server.close()


def test_copies_expire(redis_cache):
    copies = redis_cache(seconds=0.05)
    copies.keep("7", ("entry",), copies.version())
    assert copies.get("7") == ("entry",)
    time.sleep(0.06)
    assert copies.get("7") is None


def test_the_oldest_copy_makes_room(redis_cache):
    copies = redis_cache(max_entries=2)
    for key in ("1", "2", "3"):
        copies.keep(key, key, copies.version())
    assert [copies.get(key) for key in ("1", "2", "3")] == [None, "2", "3"]


def test_a_forked_process_keeps_nothing_of_its_parent(redis_cache):
    copies = redis_cache()
    copies.keep("7", ("entry",), copies.version())
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            seen = (copies.get("7"), copies.keep("8", "x", copies.version()), copies.get("8"))
            os.write(writer, repr(seen).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as report:
        assert report.read() == "(None, True, 'x')"
    os.waitpid(child, 0)
    # The parent's own subscription was left alone by the child.
    another_process_announces("9")
    assert copies.get("7") == ("entry",)


def test_without_redis_nothing_is_kept_and_an_announcement_raises(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "homelog.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    copies = LocalCopies("changes", 60)
    assert (copies.version(), copies.keep("7", "x", None), copies.get("7")) == (None, False, None)
    with pytest.raises(redis.exceptions.ConnectionError):
        copies.announce("7")


def test_only_the_redis_cache_can_keep_copies(settings):
    assert local_copies("changes", 60) is None  # the tests' own cache: a database table
    settings.CACHES = {"default": {"BACKEND": "homelog.cache.RedisCache", "LOCATION": REDIS_URL}}
    assert isinstance(local_copies("changes", 60), LocalCopies)
