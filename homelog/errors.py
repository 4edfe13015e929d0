"""Error answers that show nothing of homelog's internals.

A database that is away (restarting, failing over, unreachable) is not a bug in homelog: it answers 503 with
a JSON error and a Retry-After, and the next request after the database is back succeeds, because Django
checks a kept connection before reusing it and discards one that failed.
"""

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views import defaults

from homelog.capacity import Busy

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def database_unavailable():
    response = JsonResponse(
        {"detail": "The database is unavailable at the moment; please try again shortly."}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _is_database_outage(exception):
    # Both are what psycopg and sqlite3 raise when the server or file cannot be reached, through Django's
    # wrappers; an IntegrityError or a ProgrammingError is a bug and stays a 500.
    return isinstance(exception, OperationalError | InterfaceError)


def busy(request, exception):
    """503 with Retry-After for work refused for lack of capacity (homelog.capacity): the API's JSON error
    under /api/, a page elsewhere."""
    if request.path == "/api" or request.path.startswith("/api/"):
        response = JsonResponse({"detail": exception.message, "code": "busy"}, status=503)
    else:
        page = loader.render_to_string("503.html", {"message": exception.message}, request)
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(exception.retry_after)
    return response


class DatabaseUnavailableMiddleware:
    """Turns a view's failure to reach the database into a 503 (a single log line, no traceback), and so
    too work refused for lack of capacity (homelog.capacity.Busy: a storm of password checks)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if _is_database_outage(exception):
            logger.warning("%s %s: database unavailable: %s", request.method, request.path, exception)
            return database_unavailable()
        if isinstance(exception, Busy):
            logger.warning("%s %s: refused, busy: %s", request.method, request.path, exception.message)
            return busy(request, exception)
        return None


def server_error(request):
    """handler500: a 503 for a database outage raised outside a view (a middleware), else a plain 500."""
    if _is_database_outage(sys.exc_info()[1]):
        return database_unavailable()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return HttpResponseServerError(loader.render_to_string("500.html"))


def page_not_found(request, exception):
    """handler404: under /api/ the API's JSON error (no route matches, or a view raised Http404 outside DRF),
    elsewhere Django's page."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return JsonResponse({"detail": "No API route matches this path.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    """handler400 (a request Django refused before any view: a Host not served, a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE): the API's JSON error under /api/, elsewhere the page."""
    if not (request.path == "/api" or request.path.startswith("/api/")):
        # The page says which part of the address was wrong (Django's own does not).
        context = {"exception": str(exception) if exception else ""}
        return HttpResponseBadRequest(loader.render_to_string("400.html", context, request))
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            {"detail": "The body is larger than the server accepts.", "code": "too_large"}, status=413
        )
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
