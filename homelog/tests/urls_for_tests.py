"""Views that fail on purpose, for the error and logging tests, and views that change their security policy;
the real URLs are included unchanged."""

from csp.decorators import csp_exempt, csp_update
from django.contrib import messages
from django.db import OperationalError
from django.http import HttpResponse
from django.urls import path

from homelog.urls import handler500, urlpatterns  # noqa: F401 — handler500 is looked up on this module


def broken(request):
    raise RuntimeError("secret internals: /srv/homelog/settings.py line 42")


def database_away(request):
    raise OperationalError('connection to server at "10.0.0.7", port 5432 failed: Connection refused')


def password_reset(request, uidb64, token):
    return HttpResponse("reset form")


@csp_update({"img-src": ["https://tiles.example.org"]})
def map_page(request):
    return HttpResponse("a map")


@csp_exempt()
def exempt_page(request):
    return HttpResponse("no policy")


def page_with_nonce(request):
    return HttpResponse(f"<script nonce={request.csp_nonce}></script>")


def add_message(request):
    messages.success(request, "Saved.")
    return HttpResponse("added")


def show_messages(request):
    return HttpResponse(" | ".join(str(message) for message in messages.get_messages(request)))


def plain_page(request):
    return HttpResponse("plain")


urlpatterns = [
    path("messages/add", add_message),
    path("messages/show", show_messages),
    path("plain", plain_page),
    path("map", map_page),
    path("exempt", exempt_page),
    path("nonce", page_with_nonce),
    path("api/broken", broken),
    path("broken", broken),
    path("api/database-away", database_away),
    path("reset/<uidb64>/<token>/", password_reset),
    *urlpatterns,
]
