import datetime as dt

import orjson
from django.db import DEFAULT_DB_ALIAS
from django.db.models import DateTimeField, Exists, IntegerField, OuterRef, TextField, Value
from django.db.models.functions import Cast
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.models import Household
from homelog.api.exceptions import Conflict
from homelog.api.fields import utc_iso
from homelog.api.filters import FilterBackend
from homelog.api.pagination import KeysetLinkPagination
from homelog.db_functions import UUIDText
from homelog.statements import RequestingUser, Statement
from readings.api.filters import ReadingFilterSet
from readings.api.serializers import ReadingSerializer
from readings.models import Reading
from readings.services import (
    ReadingGone,
    ReadingsClash,
    SourceGone,
    create_reading,
    delete_reading,
    ingest_readings,
    update_reading,
)
from sources.authentication import (
    DeviceTokenAuthentication,
    IsAuthenticatedOrDeviceAdding,
    creator_of,
    device_token_of,
)
from sources.models import DataSource

UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


def _addressed_source(param, shape):
    """The source of the request's path, if the caller may address it, with whether they may add readings:
    for a person, a source of their households (viewers may not add); for a device, its own source."""
    source = param("source", IntegerField())
    columns = ("id", "metrics", "household_id", "household__timezone", "user_can_write")
    if shape == "device":
        sources = DataSource.objects.filter(pk=source).filter(pk=param("token_source", IntegerField()))
        return sources.annotate(user_can_write=Value(True)).values_list(*columns)
    user = RequestingUser(param("user", IntegerField()))
    writable = DataSource.objects.writable_by(user).filter(pk=OuterRef("pk"))
    sources = DataSource.objects.visible_to(user).filter(pk=source)
    return sources.annotate(user_can_write=Exists(writable)).values_list(*columns)


# The source of every request under /api/sources/{id}/readings, compiled once: building the access rule
# took longer than the query (and the write check was a second query).
ADDRESSED_SOURCE = Statement(_addressed_source)


def _instance(model, **fields):
    """An instance of `model` with these fields as read from the database, the others loaded when first
    used (as with a queryset's only())."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in fields]
    return model.from_db(DEFAULT_DB_ALIAS, names, [fields[name] for name in names])


class SourceReadingsMixin:
    """For views under /api/sources/{source_pk}/: the source, if the caller may see it (else 404)."""

    @cached_property
    def data_source(self):
        # A device token reaches its own source only: any other is as unknown as another household's.
        token = device_token_of(self.request)
        if token is not None:
            rows = ADDRESSED_SOURCE.run(
                "device", source=self.kwargs["source_pk"], token_source=token.data_source_id
            )
        else:
            rows = ADDRESSED_SOURCE.run("user", source=self.kwargs["source_pk"], user=self.request.user.pk)
        if not rows:
            raise Http404("No such source.")
        pk, metrics, household_id, zone, user_can_write = rows[0]
        # The fields read here, the others loaded if ever used, as a queryset's only() would.
        source = _instance(DataSource, id=pk, metrics=metrics, household_id=household_id)
        source.household = _instance(Household, id=household_id, timezone=zone)
        source.user_can_write = user_can_write
        return source

    def filter_timezone(self):
        return self.data_source.household.tzinfo

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context.update(data_source=self.data_source, tzinfo=self.filter_timezone())
        return context

    def require_writable_source(self):
        if not self.data_source.user_can_write:
            raise PermissionDenied("Viewers cannot add readings.")


def _readings_list(param, shape):
    lookups, ordering, offset, count = shape
    user, source = RequestingUser(param("user", IntegerField())), param("source", IntegerField())
    readings = Reading.objects.of_visible_source(source, user)
    for name, lookup in lookups:
        readings = readings.filter(**{lookup: param(name, DateTimeField())})
    # The values as the JSON text the database holds: orjson writes it out as it is, without parsing it
    # into dicts first (a third of the time of a page).
    # The id as text too: a page of plain values (text, numbers, datetimes) holds nothing the garbage
    # collector tracks. The page is reachable from DRF's reference cycles (the response and its renderer
    # context), so whatever it holds is freed only by a collection: the UUIDs and the rows holding them were
    # 200 of the 289 objects a page left to the collector.
    readings = readings.annotate(id_text=UUIDText("id"), values_json=Cast("values", TextField()))
    readings = readings.order_by(*ordering)
    columns = ("id_text", "data_source_id", "timestamp", "created_by_id", "created_at", "values_json")
    readings = readings.values_list(*columns)
    return readings[offset : offset + count]


def _listed_reading(id, data_source_id, timestamp, created_by_id, created_at, values_json):
    # ReadingSerializer's fields, in its order: a listed reading is what the serializer gives for it.
    return {
        "id": id,
        "data_source_id": data_source_id,
        "timestamp": timestamp,
        "values": orjson.Fragment(values_json),
        "created_by_id": created_by_id,
        "created_at": created_at,
    }


# The readings list, compiled once per shape (the filters, the order and the page): building and compiling
# its query with the access check took longer than running it.
READINGS_LIST = Statement(_readings_list)
# What the list's filters are validated against: only its model is read, and it is never run (building an
# empty queryset per request was 2% of a page).
NO_READINGS = Reading.objects.none()


def source_gone():
    return Conflict("The source was deleted while this request was handled: nothing was stored.")


def duplicate_message(timestamp):
    return f"This source already has a reading at {utc_iso(timestamp)}."


@extend_schema_view(
    list=extend_schema(
        summary="A source's readings, newest first",
        description='The next page is in the `Link: <...>; rel="next"` header; it continues after the last '
        "row's timestamp, so deep pages are as fast as the first.",
    ),
    create=extend_schema(
        summary="Add a reading (owners and members)",
        description="With a client's `id` that is already stored with the same timestamp and values, the "
        "reading is not stored again: 200 with the stored reading (a re-sent reading), not 201.",
        responses={201: ReadingSerializer, 200: ReadingSerializer},
    ),
    retrieve=extend_schema(summary="A reading"),
    update=extend_schema(summary="Change a reading (owners, or the member who added it)"),
    partial_update=extend_schema(summary="Change a reading (owners, or the member who added it)"),
    destroy=extend_schema(summary="Delete a reading (owners, or the member who added it)"),
)
class ReadingViewSet(SourceReadingsMixin, viewsets.ModelViewSet):
    """The readings of one data source."""

    # Devices may add readings with their token; people use JWT or the session as everywhere.
    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, DeviceTokenAuthentication]
    permission_classes = [IsAuthenticatedOrDeviceAdding]
    serializer_class = ReadingSerializer
    filterset_class = ReadingFilterSet
    pagination_class = KeysetLinkPagination
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reading.objects.none()
        # The source was found through visible_to(user): its readings need no second membership check.
        readings = Reading.objects.of_source(self.data_source).newest_first()
        if self.action in ("update", "partial_update", "destroy"):
            # Read with the reading, not after it: a reading deleted in between is a 404, not a 403.
            editable = Reading.objects.editable_by(self.request.user).filter(pk=OuterRef("pk"))
            readings = readings.annotate(user_can_change=Exists(editable))
        return readings

    def get_object(self):
        reading = super().get_object()
        if self.action in ("update", "partial_update", "destroy") and not reading.user_can_change:
            raise PermissionDenied(
                "Only the household's owners and the member who added a reading can change it."
            )
        return reading

    def list(self, request, *args, **kwargs):
        # The hot path: one compiled statement (see READINGS_LIST), its columns straight from the database to
        # orjson, no serializer per row. The access check is part of that query; the source itself is read
        # only when needed: for a filter's time zone, or to tell a source the caller may not see (404) from
        # one without readings. Only people list readings (IsAuthenticatedOrDeviceAdding lets a device add
        # them, nothing else), so the rows are those the user may see.
        lookups, ordering = FilterBackend().lookups(request, NO_READINGS, self)
        ordering = tuple(ordering or ("-timestamp",))
        lookup_shape = tuple(sorted((name, lookup) for name, (lookup, _) in lookups.items()))
        values = {name: value for name, (_, value) in lookups.items()}
        self.paginator.order_by(ordering)

        def read(offset, count):
            rows = READINGS_LIST.run(
                (lookup_shape, ordering, offset, count),
                user=request.user.pk,
                source=self.kwargs["source_pk"],
                **values,
            )
            return [_listed_reading(*row) for row in rows]

        page = self.paginator.paginate_rows(read, request)
        if not page:
            self.data_source  # noqa: B018 — raises the 404 when the source is out of reach
        return self.get_paginated_response(page)

    def create(self, request, *args, **kwargs):
        self.require_writable_source()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        timestamp = serializer.validated_data["timestamp"]
        reading_id = serializer.validated_data.pop("id", None)
        if reading_id is not None:
            return self._create_with_id(serializer, reading_id)
        try:
            reading = create_reading(
                self.data_source,
                timestamp=timestamp,
                values=serializer.validated_data["values"],
                created_by=creator_of(request),
            )
        except ReadingsClash:
            raise Conflict(duplicate_message(timestamp)) from None
        except SourceGone:
            raise source_gone() from None
        # ReadingSerializer's fields, as a listed reading gives them: a second serializer for the answer was a
        # tenth of a POST.
        answer = _listed_reading(
            str(reading.pk),
            reading.data_source_id,
            reading.timestamp.astimezone(dt.UTC),  # as the database gives it back, whatever offset came in
            reading.created_by_id,
            reading.created_at,
            orjson.dumps(reading.values),
        )
        return self._created(answer, reading.pk)

    def _create_with_id(self, serializer, reading_id):
        """Store a reading with the client's id through `ingest_readings`, the bulk path, so that one rule
        (and its handling of concurrent writers) decides what a reading sent again is; it keeps the
        counters and rollups exact as every writer does."""
        source = self.data_source
        timestamp, values = serializer.validated_data["timestamp"], serializer.validated_data["values"]
        item = {"id": reading_id, "timestamp": timestamp, "values": values}
        try:
            result = ingest_readings(source, [item], created_by=creator_of(self.request))
        except SourceGone:
            raise source_gone() from None
        # The reading with this id, if it is this source's: the one just stored or the one sent before.
        reading = Reading.objects.of_source(source).filter(pk=reading_id).first()
        if result.created == 1 or (result.existing == 1 and reading is not None):
            data = self.get_serializer(reading).data
            return self._created(data, reading.pk) if result.created else Response(data)
        if reading is not None:
            path = reverse("api:source-reading-detail", kwargs={"source_pk": source.pk, "pk": reading_id})
            raise Conflict(
                f"Reading {reading_id} is already stored with another timestamp or other values; "
                f"change it with PUT {path}."
            )
        if "id" in result.errors.get(0, {}):
            raise Conflict(
                f"Id {reading_id} is already used by a reading of another source; send a new id, or none."
            )
        # Another reading (another id) at this time, with these values or others.
        raise Conflict(duplicate_message(timestamp))

    def _created(self, data, pk):
        location = reverse("api:source-reading-detail", kwargs={"source_pk": self.data_source.pk, "pk": pk})
        return Response(
            data,
            status=status.HTTP_201_CREATED,
            headers={"Location": self.request.build_absolute_uri(location)},
        )

    def perform_update(self, serializer):
        changes = {
            name: serializer.validated_data[name]
            for name in ("timestamp", "values")
            if name in serializer.validated_data
        }
        try:
            update_reading(serializer.instance, **changes)
        except ReadingGone:
            raise NotFound("This reading was deleted meanwhile.") from None
        except ReadingsClash:
            raise Conflict(
                duplicate_message(changes.get("timestamp", serializer.instance.timestamp))
            ) from None

    def perform_destroy(self, instance):
        try:
            delete_reading(instance)
        except ReadingGone:
            raise NotFound("This reading was deleted meanwhile.") from None
