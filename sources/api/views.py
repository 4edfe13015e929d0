from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from accounts.models import Household
from homelog.api.permissions import require
from sources.api.filters import DataSourceFilterSet
from sources.api.serializers import DataSourceSerializer
from sources.models import DataSource


@extend_schema_view(
    list=extend_schema(summary="The sources of the caller's households"),
    create=extend_schema(summary="Add a source to a household (owners and members)"),
    retrieve=extend_schema(summary="A source"),
    update=extend_schema(summary="Change a source (owners)"),
    partial_update=extend_schema(summary="Change a source (owners)"),
    destroy=extend_schema(summary="Delete a source with its readings (owners)"),
)
class DataSourceViewSet(viewsets.ModelViewSet):
    serializer_class = DataSourceSerializer
    filterset_class = DataSourceFilterSet
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return (
            DataSource.objects.visible_to(self.request.user).for_api().order_by("household_id", "name", "id")
        )

    def perform_create(self, serializer):
        household = serializer.validated_data["household"]
        require(
            Household.objects.writable_by(self.request.user),
            household,
            "Viewers cannot add sources to a household.",
        )
        source = serializer.save(created_by=self.request.user)
        serializer.instance = self.get_queryset().get(pk=source.pk)

    def get_object(self):
        source = super().get_object()
        if self.action in ("update", "partial_update", "destroy"):
            # Checked before the body is read: the answer is "you may not", not what the body lacks.
            require(
                DataSource.objects.editable_by(self.request.user),
                source,
                "Only the household's owners can change or delete its sources.",
            )
        return source

    def perform_update(self, serializer):
        source = serializer.save()
        serializer.instance = self.get_queryset().get(pk=source.pk)
