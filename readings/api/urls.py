"""Routes under /api/sources/{source_pk}/readings: register further reading endpoints on `router`."""

from django.urls import re_path

from homelog.api.routers import OptionalSlashRouter
from readings.api import bulk, export, usage, views

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
    re_path(r"^sources/(?P<source_pk>[0-9]+)/usage/?$", usage.SourceUsageView.as_view(), name="source-usage"),
    re_path(
        r"^households/(?P<household_pk>[0-9]+)/usage/?$",
        usage.HouseholdUsageView.as_view(),
        name="household-usage",
    ),
]
