"""The next-page link, built from the request's parsed query: the same URL as DRF's own helpers give."""

from urllib import parse

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.utils.urls import remove_query_param, replace_query_param

from homelog.api.pagination import _with_query


@pytest.mark.parametrize(
    "url",
    [
        "http://testserver/api/sources/1/readings",
        "http://testserver/api/sources/1/readings?limit=5&offset=10",
        "https://h.example/api/x?start=2025-01-01T00%3A00%3A00%2B01%3A00&before=2025-02-01&limit=1&a=&a=2",
        "http://testserver/api/x?ordering=timestamp&after=2025-01-01T01%3A00%3A00Z&name=a+b%20c&z=%E2%82%AC",
        "http://testserver/api/caf%C3%A9%20bar?limit=3",
    ],
)
def test_the_next_link_is_what_drfs_helpers_give_one_after_the_other(url, settings):
    settings.ALLOWED_HOSTS = ["testserver", "h.example"]
    parts = parse.urlsplit(url)
    request = Request(
        APIRequestFactory().get(
            f"{parts.path}?{parts.query}", HTTP_HOST=parts.netloc, secure=parts.scheme == "https"
        )
    )
    expected = url
    for name in ("offset", "before", "after"):
        expected = remove_query_param(expected, name)
    expected = replace_query_param(expected, "limit", 100)
    expected = replace_query_param(expected, "before", "2025-01-01T00:00:00Z")

    link = _with_query(
        request, remove=("offset", "before", "after"), limit=100, before="2025-01-01T00:00:00Z"
    )

    assert link == expected
