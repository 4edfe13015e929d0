from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.serializers import ModelSerializer

from accounts.models import Household
from homelog.api.fields import utc_iso
from sources.metrics import MetricKind, validate_metrics
from sources.models import DataSource, SourceType

CUMULATIVE, INSTANTANEOUS = MetricKind.CUMULATIVE.value, MetricKind.INSTANTANEOUS.value
# Meters of these types count up (a register); the others sample a level. Used when a client names a
# metric's unit but not its kind, as clients of the original service did.
COUNTING_TYPES = {SourceType.ELECTRICITY, SourceType.GAS, SourceType.WATER, SourceType.HEAT, SourceType.SOLAR}
# The metrics of a source created without any, as the original service gave it: one value, no unit.
DEFAULT_METRICS = {"value": ""}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "example": {"energy": "kWh"},
        "description": "Metric name → unit (which may be empty). On input a value may also be "
        '{"unit": "kWh", "cumulative": true}. Names are 1-64 letters, digits, spaces, "_", "-" or ".", '
        'not "id" or "timestamp", no two alike but for case. Left out on creation: {"value": ""}.',
    }
)
class MetricsField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": [CUMULATIVE, INSTANTANEOUS]},
        "example": {"energy": CUMULATIVE},
        "description": "Metric name → kind. On input, a metric left out is cumulative for electricity, gas, "
        "water, heat and solar sources and instantaneous for the others.",
    }
)
class MetricKindsField(serializers.JSONField):
    pass


class LatestReadingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    timestamp = serializers.DateTimeField()
    values = serializers.DictField(child=serializers.FloatField())


class VisibleHouseholdField(serializers.PrimaryKeyRelatedField):
    """A household of the caller's, by id. A household outside theirs is "does not exist", exactly like one
    that does not. The queryset is made only when input is read: a source's answer needs none, and making it
    for each was a tenth of the work of a source's detail."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Household.objects.none()
        return Household.objects.visible_to(request.user)


class DataSourceSerializer(ModelSerializer):
    household = VisibleHouseholdField(
        required=False,
        allow_null=True,
        help_text="Left out (or null): the only household where the caller may add sources; a new household "
        "of their own if they belong to none.",
    )
    owner_id = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    metrics = MetricsField(required=False)
    metric_kinds = MetricKindsField(required=False)
    reading_count = serializers.IntegerField(read_only=True)
    latest_reading = serializers.SerializerMethodField()

    class Meta:
        model = DataSource
        fields = [
            "id",
            "name",
            "description",
            "type",
            "household",
            "owner_id",
            "metrics",
            "metric_kinds",
            "price_per_unit",
            "is_active",
            "reading_count",
            "latest_reading",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # A source stays in the household it was created in.
            self.fields["household"].read_only = True

    def validate(self, attrs):
        instance = self.instance
        if instance is None and "metrics" not in attrs:
            attrs["metrics"] = dict(DEFAULT_METRICS)
        if "metrics" in attrs or "metric_kinds" in attrs:
            source_type = attrs.get("type", instance.type if instance else SourceType.OTHER)
            metrics = attrs.get("metrics", instance.units if instance else {})
            kinds = attrs.pop("metric_kinds", None)
            if kinds is None and instance is not None and isinstance(metrics, dict):
                # A metric the source keeps keeps its kind unless the request names another.
                kinds = {name: kind for name, kind in instance.metric_kinds.items() if name in metrics}
            attrs["metrics"] = self._stored_metrics(metrics, kinds or {}, source_type)
        return attrs

    def _stored_metrics(self, metrics, kinds, source_type):
        """{"energy": "kWh"} with {"energy": "cumulative"} → {"energy": {"unit": "kWh", "cumulative": true}}.

        A metric given in the stored form is kept as it is."""
        if not isinstance(kinds, dict):
            raise serializers.ValidationError(
                {"metric_kinds": ['Expected an object, e.g. {"energy": "cumulative"}.']}
            )
        unknown = sorted(set(kinds) - set(metrics)) if isinstance(metrics, dict) else []
        if unknown:
            raise serializers.ValidationError(
                {"metric_kinds": [f"Kinds given for metrics the source does not have: {', '.join(unknown)}."]}
            )
        bad_kinds = sorted(name for name, kind in kinds.items() if kind not in (CUMULATIVE, INSTANTANEOUS))
        if bad_kinds:
            raise serializers.ValidationError(
                {
                    "metric_kinds": [
                        f"Each kind is '{CUMULATIVE}' or '{INSTANTANEOUS}'; "
                        f"not so for: {', '.join(bad_kinds)}."
                    ]
                }
            )
        stored = metrics
        if isinstance(metrics, dict):
            stored = {}
            for name, spec in metrics.items():
                if isinstance(spec, str):
                    kind = kinds.get(name, CUMULATIVE if source_type in COUNTING_TYPES else INSTANTANEOUS)
                    spec = MetricKind(kind).spec(spec)
                stored[name] = spec
        try:
            validate_metrics(stored)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"metrics": exc.messages}) from exc
        return stored

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["metrics"] = instance.units
        return data

    @extend_schema_field(LatestReadingSerializer(allow_null=True))
    def get_latest_reading(self, source):
        if getattr(source, "latest_reading_id", None) is None:
            return None
        return {
            "id": str(source.latest_reading_id),
            "timestamp": utc_iso(source.latest_reading_timestamp),
            "values": source.latest_reading_values,
        }
