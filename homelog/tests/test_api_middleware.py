"""An API answer's view, paginator and page are freed with the answer, not left to the cyclic garbage
collector (homelog/api/middleware.py)."""

import datetime as dt
import gc
from contextlib import contextmanager

import pytest

from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


@contextmanager
def unreachable_objects():
    """The objects that only the cyclic garbage collector could free, of what the block made and dropped."""
    gc.collect()
    found = []
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_a_listed_page_is_freed_with_its_answer(api, household, owner, settings):
    source = DataSourceFactory(household=household, created_by=owner)
    for hour in range(3):
        ReadingFactory(data_source=source, timestamp=dt.datetime(2025, 1, 1, hour, tzinfo=dt.UTC))
    client = api(owner)
    client.get(f"/api/sources/{source.pk}/readings")  # what the first request imports and caches

    with unreachable_objects() as left:
        response = client.get(f"/api/sources/{source.pk}/readings?limit=2")
        assert (response.status_code, len(response.json())) == (200, 2)
        del response

    assert "ReadingViewSet" not in left
    assert "KeysetLinkPagination" not in left

    # Without the middleware, the view and its paginator (holding the page) wait for the collector.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("ReleaseAPIViewMiddleware")]
    client = api(owner)  # a client loads the middleware on its first request
    with unreachable_objects() as left:
        response = client.get(f"/api/sources/{source.pk}/readings?limit=2")
        assert response.status_code == 200
        del response

    assert {"ReadingViewSet", "KeysetLinkPagination"} <= set(left)
