"""POST /api/sources/{id}/readings/bulk: many readings at once, as a JSON array or as CSV, from the
household's owners and members and from the source's own devices. Every batch goes through
`ingest_readings`, so it is validated, idempotent and atomic (or, with ?partial=true, partial) like an import.
"""

import io
import json

import orjson
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from homelog.api.parsers import decode_json, refuse_too_deep
from readings.api.serializers import ValuesField
from readings.api.views import SourceReadingsMixin, source_gone
from readings.csv_format import CsvHeaderError, read_csv_batches
from readings.services import SourceGone, ingest_readings
from sources.authentication import DeviceTokenAuthentication, IsAuthenticatedOrDeviceAdding, creator_of

TRUE = {"true", "1", "yes"}
FALSE = {"false", "0", "no", ""}


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class BulkJSONParser(BaseParser):
    """JSON read with orjson; a body orjson refuses is read again by the standard library, which accepts
    NaN and Infinity, so that the reading holding one is reported by its index rather than the batch as a
    whole."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            return refuse_too_deep(orjson.loads(body))
        except orjson.JSONDecodeError:
            pass
        try:
            return decode_json(json.loads, body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class CSVTextParser(BaseParser):
    """CSV as text; the view reads its rows against the source's metrics."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            return CSVBody(body.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise ParseError(f"The CSV is not UTF-8 text: {exc.reason} at byte {exc.start}.") from None


class CSVBody(str):
    """The text of a CSV body, told apart from a JSON string."""


BULK_ITEMS = inline_serializer(
    "BulkReading",
    {
        "id": serializers.UUIDField(required=False, help_text="Chosen by the client, to send again safely."),
        "timestamp": serializers.CharField(help_text="ISO 8601; without an offset, in the household's zone."),
        "values": ValuesField(),
    },
    many=True,
)
BULK_RESULT = inline_serializer(
    "BulkResult",
    {
        "created": serializers.IntegerField(help_text="Readings stored by this request."),
        "existing": serializers.IntegerField(help_text="Readings that were already stored, unchanged."),
        "failed": serializers.IntegerField(help_text="Readings refused; see errors."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text='Messages by "<index>.<field>", the index counting from 0 in the array or CSV rows.',
        ),
    },
)


@extend_schema(
    summary="Add many readings at once (owners, members and the source's devices)",
    description=(
        "A JSON array of up to 10,000 readings, or CSV with a header row of `timestamp`, metric names and "
        "optionally `id`. Readings already stored (same id, or same timestamp with equal values) are "
        "counted as existing and not stored again; the same timestamp with other values is a conflict. "
        "By default nothing is stored when any reading is invalid or conflicts (400); with "
        "`partial=true` the good ones are stored and the others reported (200)."
    ),
    parameters=[
        OpenApiParameter(
            "partial", OpenApiTypes.BOOL, description="Store the valid readings even when others fail."
        )
    ],
    request={"application/json": BULK_ITEMS, "text/csv": OpenApiTypes.STR},
    responses={
        200: BULK_RESULT,
        400: OpenApiResponse(
            BULK_RESULT, description="Nothing stored: the errors say which readings and why."
        ),
        409: OpenApiResponse(description="The source was deleted while the readings were being stored."),
        413: OpenApiResponse(description="The body is larger than the server accepts."),
    },
)
class BulkReadingsView(SourceReadingsMixin, APIView):
    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, DeviceTokenAuthentication]
    permission_classes = [IsAuthenticatedOrDeviceAdding]
    parser_classes = [BulkJSONParser, CSVTextParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Before the body is read: a client that sends too much learns it without the server parsing it.
        limit = settings.INGEST_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(
                f"The body has {length} bytes; at most {limit} are accepted. Send fewer readings per request."
            )

    def post(self, request, source_pk):
        self.require_writable_source()
        partial = self._partial(request)
        items = self._items(request.data)
        try:
            result = ingest_readings(self.data_source, items, created_by=creator_of(request), partial=partial)
        except SourceGone:
            raise source_gone() from None
        body = {
            "created": result.created,
            "existing": result.existing,
            "failed": result.failed,
            "errors": {
                f"{index}.{field}": messages
                for index, errors in result.errors.items()
                for field, messages in errors.items()
            },
        }
        if not result.stored:
            return Response(
                {
                    "detail": f"Nothing was stored: {result.failed} of {len(items)} readings are invalid or "
                    "conflict with stored ones.",
                    "code": "invalid",
                    **body,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(body)

    @staticmethod
    def _partial(request):
        value = request.query_params.get("partial", "").lower()
        if value not in TRUE | FALSE:
            raise ValidationError({"partial": [f"Must be true or false, not {value[:20]!r}."]})
        return value in TRUE

    def _items(self, data):
        limit = settings.INGEST_MAX_BATCH
        if isinstance(data, CSVBody):
            try:
                # One past the limit is enough to refuse the batch without reading all of it.
                batches = read_csv_batches(io.StringIO(data, newline=""), self.data_source.metrics, limit + 1)
                _, items = next(batches, (None, []))
            except CsvHeaderError as exc:
                raise ValidationError({"non_field_errors": [str(exc)]}) from None
        elif isinstance(data, list):
            items = data
        else:
            raise ValidationError(
                {
                    "non_field_errors": [
                        'Send a JSON array of readings, e.g. [{"timestamp": "2025-01-31T07:30:00Z", '
                        '"values": {"energy": 1234.5}}], or CSV.'
                    ]
                }
            )
        if len(items) > limit:
            raise ValidationError(
                {"non_field_errors": [f"A batch holds at most {limit} readings; this one has more."]}
            )
        return items
