import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.serializers import ModelSerializer

from homelog.api.fields import MomentField
from readings.models import Reading
from sources.metrics import validate_values


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "number"},
        "example": {"energy": 1234.5},
        "description": "Metric name → a finite number, for some of the source's metrics.",
    }
)
class ValuesField(serializers.JSONField):
    def to_internal_value(self, data):
        # JSONField would refuse 1e400 (parsed as infinity) as "not valid JSON"; validate_values says why.
        return data


class ReadingIdField(serializers.UUIDField):
    """A UUID as text, read as the bulk endpoint reads ids (not DRF's integers), with its message."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                return uuid.UUID(data)
            except ValueError:
                pass
        raise serializers.ValidationError(f"Id must be a UUID, not {data!r}.")


class ReadingSerializer(ModelSerializer):
    """One reading of the source in ``context["data_source"]``.

    ``context["tzinfo"]`` (the household's zone) reads timestamps written without an offset.
    """

    id = ReadingIdField(
        required=False,
        allow_null=True,
        help_text="On creation, the client's own id (a UUID), so that a reading sent again is stored once: "
        "the same id with the same timestamp and values answers 200 with the stored reading, with others "
        "409. Left out: a new UUIDv7. Never changed afterwards.",
    )
    data_source_id = serializers.IntegerField(read_only=True)
    timestamp = MomentField(
        required=False,
        help_text="ISO 8601; without an offset, in the household's time zone. Left out on creation: now.",
    )
    values = ValuesField()
    created_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    created_at = MomentField(read_only=True)

    class Meta:
        model = Reading
        fields = ["id", "data_source_id", "timestamp", "values", "created_by_id", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            # A reading keeps the id it was stored with.
            self.fields["id"].read_only = True

    def validate_values(self, values):
        try:
            validate_values(values, self.context["data_source"].metrics)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return values

    def validate(self, attrs):
        if self.instance is None and "timestamp" not in attrs:
            attrs["timestamp"] = timezone.now()
        return attrs
