from homelog.api.routers import OptionalSlashRouter
from sources.api import tokens, views

router = OptionalSlashRouter()
router.register("sources", views.DataSourceViewSet, basename="source")
router.register(r"sources/(?P<source_pk>[0-9]+)/tokens", tokens.DeviceTokenViewSet, basename="source-token")

urlpatterns = router.urls
