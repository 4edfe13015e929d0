"""Views that fail on purpose, for the error and logging tests; the real URLs are included unchanged."""

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


urlpatterns = [
    path("api/broken", broken),
    path("broken", broken),
    path("api/database-away", database_away),
    path("reset/<uidb64>/<token>/", password_reset),
    *urlpatterns,
]
