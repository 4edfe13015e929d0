"""Django's Redis cache backend with one redis client per pool, publish/subscribe, and copies kept in-process.

Django's RedisCacheClient makes a new ``redis.Redis`` for each get or set; building one fills its table of
response callbacks, which took about a third of the time of a GET on a local Redis (the bearer-token check
does one per API request). A ``redis.Redis`` only wraps its connection pool and is safe to share, so one per
pool serves every call; Django already keeps one cache object per thread.

`LocalCopies` keeps copies of shared entries in the process, for entries read on every request: each copy is
dropped the moment any process announces a change to it, through Redis publish/subscribe.
"""

import logging
import os
import threading
from time import monotonic

import redis
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends import redis as django_redis

from homelog.sockets import has_input

logger = logging.getLogger(__name__)


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def publish(self, channel, message):
        return self.get_client(write=True).publish(channel, message)

    def subscribe(self, channel, client_name):
        """A connection of its own to the primary, subscribed to `channel` once this returns."""
        pool = self._get_connection_pool(write=True)
        connection = pool.connection_class(**{**pool.connection_kwargs, "client_name": client_name})
        try:
            connection.send_command("SUBSCRIBE", channel)
            kind, *_ = connection.read_response(push_request=True)
            if kind != b"subscribe":
                raise redis.ResponseError(f"SUBSCRIBE answered {kind!r}")
        except BaseException:
            connection.disconnect()
            raise
        return connection


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    # Channels are named like keys, so that two sites sharing one Redis (another KEY_PREFIX) stay apart.
    def publish(self, name, message):
        self._cache.publish(self.make_and_validate_key(name), message)

    def subscribe(self, name, client_name):
        return self._cache.subscribe(self.make_and_validate_key(name), client_name)


class LocalCopies:
    """Copies of shared cache entries kept in this process, each dropped as soon as any process announces a
    change to it.

    Reading a copy costs no round trip: the changes Redis has already pushed to this process's subscription
    are applied first, which is a poll of one socket when there are none. So a change announced before a
    request begins is seen by that request, in every process, as with a shared entry read from Redis.

    A copy is kept only while the subscription stands, and only if no change was announced between taking
    `version()` and keeping it: a request that read an entry just before a change cannot keep what it read.
    Losing the subscription drops every copy, since changes announced meanwhile never arrive; it is tried
    again a second later, and until then `get` finds nothing and callers read the shared entry.
    """

    RESUBSCRIBE_SECONDS = 1.0

    def __init__(self, name, seconds, max_entries=1000):
        self.name, self.seconds, self.max_entries = name, seconds, max_entries
        self._lock = threading.Lock()
        self._copies = {}  # key -> (expires at, value), oldest first
        self._version = 0  # moves at each announcement applied and at each (re)subscription
        self._subscription = None
        self._subscribe_after = 0.0
        self._pid = os.getpid()

    def get(self, key):
        with self._lock:
            if not self._current():
                return None
            copy = self._copies.get(key)
        if copy is None or copy[0] <= monotonic():
            return None
        return copy[1]

    def version(self):
        """Taken before reading the shared entry that may be kept; None while copies cannot be kept."""
        with self._lock:
            return self._version if self._current() else None

    def keep(self, key, value, version):
        """Keep a copy of `value`, read after `version()` returned `version`; whether it was kept."""
        with self._lock:
            if version is None or not self._current() or version != self._version:
                return False
            self._copies.pop(key, None)
            if len(self._copies) >= self.max_entries:
                del self._copies[next(iter(self._copies))]
            self._copies[key] = (monotonic() + self.seconds, value)
            return True

    def announce(self, key):
        """Drop the copies of `key` in every process. Raises if Redis cannot pass the change on."""
        with self._lock:
            self._copies.pop(key, None)
            self._version += 1
        cache.publish(self.name, key)

    def close(self):
        with self._lock:
            self._unsubscribe(retry=False)

    def _current(self):
        """Apply the changes announced so far; whether copies can be trusted. Called with the lock held."""
        if self._pid != os.getpid():
            # A forked child shares its parent's socket but must not read from it.
            self._pid, self._subscription = os.getpid(), None
            self._forget_all()
        if self._subscription is None:
            if monotonic() < self._subscribe_after:
                return False
            self._subscribe()
            return self._subscription is not None
        try:
            # The loop below ends once the parser holds no whole message and the socket nothing more, so a
            # new message can only come from the socket: a poll of it is enough when there is none, which
            # spares a read that fails (redis-py raises and catches a timeout) on every request.
            if not has_input(self._subscription._sock):
                return True
            while self._subscription.can_read(timeout=0):
                kind, _, message = self._subscription.read_response(push_request=True)
                if kind == b"message":
                    self._copies.pop(message.decode(), None)
                self._version += 1
        except Exception:
            # Redis restarted or dropped this subscriber: what was announced meanwhile is lost.
            logger.warning("lost the subscription to %s; copies dropped", self.name, exc_info=True)
            self._unsubscribe(retry=True)
            return False
        return True

    def _subscribe(self):
        try:
            self._subscription = cache.subscribe(self.name, client_name=f"homelog-copies-{os.getpid()}")
        except Exception:
            logger.warning("cannot subscribe to %s; reading the shared cache", self.name, exc_info=True)
            self._subscribe_after = monotonic() + self.RESUBSCRIBE_SECONDS
            return
        self._forget_all()

    def _unsubscribe(self, retry):
        if self._subscription is not None:
            self._subscription.disconnect()
            self._subscription = None
        self._forget_all()
        self._subscribe_after = monotonic() + self.RESUBSCRIBE_SECONDS if retry else 0.0

    def _forget_all(self):
        self._copies.clear()
        self._version += 1


def local_copies(name, seconds):
    """A `LocalCopies` of the default cache's entries named `name`, or None where that cache cannot announce
    changes (any backend but `RedisCache`). One per process: each holds a subscription."""
    if not isinstance(caches[DEFAULT_CACHE_ALIAS], RedisCache):
        return None
    return LocalCopies(name, seconds)
