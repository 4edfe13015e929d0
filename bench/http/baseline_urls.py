"""The baseline: the readings list as plain DRF writes it — ModelViewSet, ModelSerializer, DRF's own JSON
renderer and limit/offset pagination — on homelog's settings, authentication and data."""

from django.urls import include, path
from rest_framework import routers, serializers, viewsets
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer

from readings.models import Reading


class ReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reading
        fields = ["id", "data_source", "timestamp", "values", "created_by", "created_at"]


class ReadingViewSet(viewsets.ModelViewSet):
    serializer_class = ReadingSerializer
    pagination_class = LimitOffsetPagination
    renderer_classes = [JSONRenderer]

    def get_queryset(self):
        return Reading.objects.visible_to(self.request.user).filter(data_source_id=self.kwargs["source_pk"])


router = routers.SimpleRouter(trailing_slash=False)
router.register(r"sources/(?P<source_pk>[0-9]+)/readings", ReadingViewSet, basename="baseline-reading")

urlpatterns = [path("api/", include(router.urls))]
