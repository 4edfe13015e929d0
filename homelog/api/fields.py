import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from homelog.api.moments import EXAMPLE, aware_moment, parse_moment


def utc_iso(value):
    """The API's one way of writing a moment: UTC with a "Z", as orjson writes rows read from the database."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@extend_schema_field(OpenApiTypes.DATETIME)
class MomentField(serializers.Field):
    """An ISO 8601 moment; one without an offset is read in ``context["tzinfo"]`` (the household's zone).

    Always written back in UTC, so that a list rendered from `values()` and a serializer agree byte for byte.
    """

    default_error_messages = {"invalid": f"Expected an ISO 8601 date-time ({EXAMPLE})."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            parsed = parse_moment(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return aware_moment(parsed, self.context.get("tzinfo", dt.UTC))

    def to_representation(self, value):
        return utc_iso(value)
