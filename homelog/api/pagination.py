"""Lists are plain JSON arrays (as home-log's were); the next page is announced in a ``Link`` header.

No page counts the table: one row more than asked for is read to know whether a next page exists.
"""

import datetime as dt
from urllib import parse

from django.utils.encoding import escape_uri_path
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

MAX_OFFSET = 1_000_000_000


def _with_query(request, remove=(), **replace):
    """The request's absolute URL without the query parameters `remove` and with those in `replace`, sorted
    by name: what DRF's remove_query_param and replace_query_param give one after the other, from the query
    Django has already parsed."""
    params = {name: values for name, values in request.query_params.lists() if name not in remove}
    params.update((name, [str(value)]) for name, value in replace.items())
    query = parse.urlencode(sorted(params.items()), doseq=True)
    return request.build_absolute_uri(f"{escape_uri_path(request.path)}?{query}")


def _bounded_integer(request, name, default, minimum, maximum):
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise serializers.ValidationError(
            {name: [f"Must be a whole number from {minimum} to {maximum}, not {raw[:40]!r}."]}
        )
    return value


class LimitOffsetLinkPagination(BasePagination):
    limit_query_param = "limit"
    offset_query_param = "offset"
    default_limit = 100
    max_limit = 10_000

    def paginate_queryset(self, queryset, request, view=None):
        return self.paginate_rows(lambda offset, count: list(queryset[offset : offset + count]), request)

    def paginate_rows(self, read, request):
        """The page the request asks for, of the rows `read(offset, count)` returns (a list of them)."""
        self.request = request
        self.limit = _bounded_integer(request, self.limit_query_param, self.default_limit, 1, self.max_limit)
        self.offset = _bounded_integer(request, self.offset_query_param, 0, 0, MAX_OFFSET)
        rows = read(self.offset, self.limit + 1)
        self.has_next = len(rows) > self.limit
        self.page = rows[: self.limit]
        return self.page

    def get_next_link(self):
        if not self.has_next:
            return None
        next_page = {self.limit_query_param: self.limit, self.offset_query_param: self.offset + self.limit}
        return _with_query(self.request, **next_page)

    def get_paginated_response(self, data):
        next_link = self.get_next_link()
        headers = {"Link": f'<{next_link}>; rel="next"'} if next_link else None
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.limit_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1 to {self.max_limit} (default {self.default_limit}). "
                'The next page is in the `Link: <...>; rel="next"` response header.',
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
            {
                "name": self.offset_query_param,
                "in": "query",
                "required": False,
                "description": "Rows to skip (default 0).",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            },
        ]


class KeysetLinkPagination(LimitOffsetLinkPagination):
    """Like LimitOffsetLinkPagination, but the next link continues after the last row's key.

    The key is the first ordering field of the queryset (unique within the list, e.g. a reading's timestamp
    within its source); the next link asks for rows ``before`` it when the list is descending and ``after``
    it when ascending, so page 1,000 costs what page 1 costs. The view's FilterSet must offer those filters.
    """

    before_query_param = "before"
    after_query_param = "after"

    def paginate_queryset(self, queryset, request, view=None):
        self.order_by(queryset.query.order_by or queryset.model._meta.ordering)
        return super().paginate_queryset(queryset, request, view)

    def order_by(self, ordering):
        """The rows' order, as in QuerySet.order_by(); paginate_rows() needs it first."""
        first = ordering[0]
        self.keyset_field = first.lstrip("-")
        self.keyset_param = self.before_query_param if first.startswith("-") else self.after_query_param

    def get_next_link(self):
        if not self.has_next:
            return None
        last = self.page[-1]
        value = last[self.keyset_field] if isinstance(last, dict) else getattr(last, self.keyset_field)
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        # From the query Django has parsed, not the URL parsed again: this runs on every page of every
        # readings list.
        return _with_query(
            self.request,
            remove=(self.offset_query_param, self.before_query_param, self.after_query_param),
            **{self.limit_query_param: self.limit, self.keyset_param: value},
        )
