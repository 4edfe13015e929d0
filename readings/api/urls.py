"""Routes under /api/sources/{source_pk}/readings: register further reading endpoints on `router`."""

from homelog.api.routers import OptionalSlashRouter
from readings.api import views

router = OptionalSlashRouter()
router.register(r"sources/(?P<source_pk>[0-9]+)/readings", views.ReadingViewSet, basename="source-reading")

urlpatterns = router.urls
