"""homelog's production settings without one of its framework patches, named by BENCH_WITHOUT: what
`bench/http --without` measures each patch against, in the same run as homelog with all of them.

    BENCH_WITHOUT=negotiation DJANGO_SETTINGS_MODULE=bench.http.without_settings gunicorn -c gunicorn.conf.py
"""

import os

from homelog.settings import *  # noqa: F403
from homelog.settings import CACHES, DATABASES, MIDDLEWARE, REST_FRAMEWORK


def _replace_middleware(old, new):
    return [new if name == old else name for name in MIDDLEWARE if new is not None or name != old]


def _without_local_copies():
    # Before any app is imported: accounts.authentication takes local_copies from homelog.cache at import.
    import homelog.cache

    homelog.cache.local_copies = lambda name, seconds: None


PATCHES = {
    # homelog/api/negotiation.py: DRF's negotiation, its choices remembered per Accept header.
    "negotiation": lambda: REST_FRAMEWORK.update(
        DEFAULT_CONTENT_NEGOTIATION_CLASS="rest_framework.negotiation.DefaultContentNegotiation"
    ),
    # homelog/messages.py: the message storage made only when used.
    "messages": lambda: MIDDLEWARE.__setitem__(
        slice(None),
        _replace_middleware(
            "homelog.messages.MessageMiddleware", "django.contrib.messages.middleware.MessageMiddleware"
        ),
    ),
    # homelog/security.py: the CSP header built once.
    "csp": lambda: MIDDLEWARE.__setitem__(
        slice(None), _replace_middleware("homelog.security.CSPMiddleware", "csp.middleware.CSPMiddleware")
    ),
    # homelog/api/middleware.py: views emptied once answered.
    "release-view": lambda: MIDDLEWARE.__setitem__(
        slice(None), _replace_middleware("homelog.api.middleware.ReleaseAPIViewMiddleware", None)
    ),
    # homelog/postgresql: both of its parts (the C timestamp loader and the socket check).
    "postgresql-backend": lambda: DATABASES["default"].update(ENGINE="django.db.backends.postgresql"),
    # homelog/sockets.py in homelog/postgresql: Django's SELECT 1 before a kept connection's first query.
    "socket-check": lambda: DATABASES["default"].update(ENGINE="bench.http.select_one"),
    # homelog/cache.py: Django's own Redis backend (one redis client per call, no local copies).
    "redis-client": lambda: CACHES["default"].update(BACKEND="django.core.cache.backends.redis.RedisCache"),
    # homelog/cache.py LocalCopies: every cached user read from Redis.
    "local-copies": _without_local_copies,
    # accounts/authentication.py: the user of every bearer token read from the database.
    "user-cache": lambda: globals().update(JWT_USER_CACHE_SECONDS=0),
}

WITHOUT = os.environ.get("BENCH_WITHOUT", "")
if WITHOUT:
    PATCHES[WITHOUT]()
