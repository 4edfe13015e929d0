from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.models import Household
from homelog.api.filters import FilterBackend
from homelog.api.locations import LocationOnCreateMixin
from homelog.api.permissions import require
from sources.api.filters import DataSourceFilterSet
from sources.api.listing import listed_source, listed_sources
from sources.api.serializers import DataSourceSerializer
from sources.models import DataSource
from sources.services import NoHouseholdToAddTo, SeveralHouseholdsToAddTo, household_for_new_source

VIEWERS_CANNOT_ADD = "Viewers cannot add sources to a household."
# What the list's filters are validated against; never run.
NO_SOURCES = DataSource.objects.none()


@extend_schema_view(
    list=extend_schema(summary="The sources of the caller's households"),
    create=extend_schema(
        summary="Add a source to a household (owners and members)",
        description="Without `household`: the only household where the caller may add sources, or a new one "
        'of their own ("<name>\'s home", owner) when they belong to none; 400 when they may add to several.',
    ),
    retrieve=extend_schema(summary="A source"),
    update=extend_schema(summary="Change a source (owners)"),
    partial_update=extend_schema(summary="Change a source (owners)"),
    destroy=extend_schema(summary="Delete a source with its readings (owners)"),
)
class DataSourceViewSet(LocationOnCreateMixin, viewsets.ModelViewSet):
    serializer_class = DataSourceSerializer
    filterset_class = DataSourceFilterSet
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return (
            DataSource.objects.visible_to(self.request.user).for_api().order_by("household_id", "name", "id")
        )

    def list(self, request, *args, **kwargs):
        # The hot path: one compiled statement, rows to JSON without a serializer (sources/api/listing.py).
        lookups, _ = FilterBackend().lookups(request, NO_SOURCES, self)
        page = self.paginator.paginate_rows(
            lambda offset, count: listed_sources(request.user, lookups, offset, count), request
        )
        return self.get_paginated_response(page)

    def retrieve(self, request, *args, **kwargs):
        source = listed_source(request.user, int(self.kwargs["pk"]))
        if source is None:
            raise NotFound()
        return Response(source)

    def perform_create(self, serializer):
        user = self.request.user
        household = serializer.validated_data.get("household")
        with transaction.atomic():
            if household is None:
                household = self._household_for_new_source(user)
            else:
                require(Household.objects.writable_by(user), household, VIEWERS_CANNOT_ADD)
            source = serializer.save(household=household, created_by=user)
        serializer.instance = self.get_queryset().get(pk=source.pk)

    @staticmethod
    def _household_for_new_source(user):
        try:
            return household_for_new_source(user=user)
        except NoHouseholdToAddTo:
            raise PermissionDenied(VIEWERS_CANNOT_ADD) from None
        except SeveralHouseholdsToAddTo as exc:
            ids = ", ".join(map(str, exc.household_ids))
            message = f"You can add sources to several households ({ids}): say which one in 'household'."
            raise ValidationError({"household": [message]}) from None

    def get_success_headers(self, data):
        location = reverse("api:source-detail", kwargs={"pk": data["id"]})
        return {"Location": self.request.build_absolute_uri(location)}

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
