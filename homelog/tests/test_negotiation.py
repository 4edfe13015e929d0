"""Content negotiation: JSON for any Accept header that allows it, 406 for one that does not, every time."""

import pytest
from rest_framework import renderers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from homelog.api.negotiation import ContentNegotiation
from homelog.api.renderers import ORJSONRenderer


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/html, application/*;q=0.5"])
def test_json_whatever_acceptable_header_the_client_sends(api, owner, accept):
    headers = {} if accept is None else {"Accept": accept}
    for _ in range(2):  # the second answer is the remembered one
        response = api(owner).get("/api/sources", headers=headers)
        assert (response.status_code, response["Content-Type"], response.json()) == (
            200,
            "application/json",
            [],
        )


def test_a_header_no_renderer_accepts_is_refused_every_time(api, owner):
    for _ in range(2):
        response = api(owner).get("/api/sources", headers={"Accept": "text/html"})
        assert response.status_code == 406
        assert response.json() == {
            "detail": "Could not satisfy the request Accept header.",
            "code": "not_acceptable",
        }


def negotiate(accept, renderer_classes, format=None):
    path = "/" if format is None else f"/?format={format}"
    request = APIRequestFactory().get(path, HTTP_ACCEPT=accept)
    chosen, media_type = ContentNegotiation().select_renderer(
        Request(request), [renderer() for renderer in renderer_classes]
    )
    return type(chosen), media_type


def test_the_remembered_choice_is_the_renderer_drf_chose():
    both = [ORJSONRenderer, renderers.BrowsableAPIRenderer]
    for _ in range(2):
        assert negotiate("text/html", both) == (renderers.BrowsableAPIRenderer, "text/html")
        assert negotiate("application/json", both) == (ORJSONRenderer, "application/json")
        assert negotiate("*/*", both, format="api") == (renderers.BrowsableAPIRenderer, "text/html")
        # The same header with other renderers is another choice.
        assert negotiate("*/*", both[::-1]) == (renderers.BrowsableAPIRenderer, "text/html")
        assert negotiate("*/*", both) == (ORJSONRenderer, "application/json")
