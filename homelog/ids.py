"""Ids in a path that no row can have: a 404 before any view runs, on every route.

Both databases keep ids in 64-bit signed integers. A larger number in a path names nothing, but handed to a
query it is an error, not an empty result: SQLite's driver raises OverflowError, and PostgreSQL refuses a
parameter bound as bigint. Django's own lookups turn such a value into an empty result, but not every query
goes through them (the readings list runs a compiled statement), so the route refuses it first.
"""

from django.http import Http404, JsonResponse

LARGEST_ID = 2**63 - 1


def _too_large(value):
    if isinstance(value, int):
        return value > LARGEST_ID
    # Only the digits of a path group such as (?P<pk>[0-9]+); a UUID or a name is not an id.
    return isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > LARGEST_ID


class OutOfRangeIdMiddleware:
    """Answers 404 (the API's JSON one under /api/) for a route whose integer path group is beyond any id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not any(_too_large(value) for value in (*view_args, *view_kwargs.values())):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
        raise Http404("No such object.")
