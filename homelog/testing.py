"""Helpers shared by the test suites of every app."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_to_get(client, url, expected_status=200):
    """GET `url` and return how many SQL queries answering it took."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == expected_status, (url, response.status_code)
    return len(captured)


def assert_constant_queries(client, url, grow, small=2, large=40):
    """Assert that `url` takes the same number of queries with `small` and with `large` rows.

    `grow(n)` adds n more rows of whatever the page lists.
    """
    grow(small)
    at_small = queries_to_get(client, url)
    grow(large - small)
    at_large = queries_to_get(client, url)
    assert at_small == at_large, f"{url}: {at_small} queries with {small} rows, {at_large} with {large}"
    return at_large
