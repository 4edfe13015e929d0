from homelog.api.routers import OptionalSlashRouter
from sources.api import views

router = OptionalSlashRouter()
router.register("sources", views.DataSourceViewSet, basename="source")

urlpatterns = router.urls
