"""One log line per request: method, path, status, duration and user id.

The path is logged without its query string and with secret URL parts (password-reset tokens) masked, so that
no token reaches the log; headers and bodies are never logged.
"""

import logging
import time

from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger("homelog.requests")

MASK = "***"


def loggable_path(request):
    path = request.path
    match = request.resolver_match
    if match is not None:
        for name, value in match.kwargs.items():
            if (name == "token" or name.endswith("_token")) and isinstance(value, str) and value:
                path = path.replace(value, MASK)
    return path


def user_id(request):
    user = getattr(request, "user", None)
    # A request that never looked at its user (a static file, a probe, a 404) is logged without one rather
    # than paying a session and user lookup just for the log line.
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return "-"
    return str(user.pk) if user.is_authenticated else "-"


class RequestLogMiddleware:
    """Outermost middleware, so that it sees the status of every answer, errors included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        logger.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            loggable_path(request),
            response.status_code,
            duration_ms,
            user_id(request),
        )
        return response
