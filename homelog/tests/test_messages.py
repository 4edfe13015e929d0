"""Messages: the storage of a request is made only when the request uses it."""

import pytest
from django.utils.functional import empty

pytestmark = pytest.mark.urls("homelog.tests.urls_for_tests")


def test_a_message_waits_through_requests_that_never_look_at_messages(client):
    client.get("/messages/add")

    plain = client.get("/plain")

    assert plain.wsgi_request._messages._wrapped is empty
    assert "messages" not in plain.cookies
    assert client.get("/messages/show").content == b"Saved."
    assert client.get("/messages/show").content == b""
