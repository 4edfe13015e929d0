"""Probes for process managers and load balancers.

`/healthz` answers while the process can serve at all and touches nothing else, so a database outage does not
get every instance restarted. `/readyz` answers 200 only when the database and the cache answer too; a load
balancer takes the instance out of rotation on its 503 until they are back.

They are answered by a middleware placed before host validation and the HTTPS redirect: probes come over plain
HTTP from inside the host or cluster, addressed by an IP that is not in ALLOWED_HOSTS.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def healthz():
    return JsonResponse({"status": "ok"})


def readyz():
    checks = {"database": _check_database(), "cache": _check_cache()}
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        # The details (host, port) stay in the log: the probe is public.
        logger.warning("readyz: the database is unreachable", exc_info=True)
        return "unreachable"
    return "ok"


def _check_cache():
    token = uuid.uuid4().hex
    try:
        cache.set("readyz", token, timeout=30)
        stored = cache.get("readyz")
    except Exception:
        # Each backend raises its own errors (redis, database), none of them Django's.
        logger.warning("readyz: the cache is unreachable", exc_info=True)
        return "unreachable"
    # Another instance may have written its own token in between: any token means the cache answers.
    return "ok" if stored else "unreachable"


PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe()
        return self.get_response(request)
