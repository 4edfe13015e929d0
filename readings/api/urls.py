"""Routes under /api/sources/{source_pk}/readings: register further reading endpoints on `router`."""

from django.urls import re_path

from homelog.api.routers import OptionalSlashRouter
from readings.api import bulk, export, views

router = OptionalSlashRouter()
router.register(r"sources/(?P<source_pk>[0-9]+)/readings", views.ReadingViewSet, basename="source-reading")

urlpatterns = [
    re_path(
        r"^sources/(?P<source_pk>[0-9]+)/readings/bulk/?$",
        bulk.BulkReadingsView.as_view(),
        name="source-readings-bulk",
    ),
    re_path(
        r"^sources/(?P<source_pk>[0-9]+)/readings\.csv$",
        export.ReadingsCSVView.as_view(),
        name="source-readings-csv",
    ),
    *router.urls,
]
