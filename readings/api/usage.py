"""GET /api/sources/{id}/usage and GET /api/households/{id}/usage: readings.usage over HTTP.

Both answer in the API's own way: moments in UTC with a "Z" (the household's `timezone` is in the answer to
label buckets locally), errors through the API's exception handler, 404 outside the caller's households.
"""

import zoneinfo

import orjson
from django.db.models import IntegerField
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Household
from homelog.api.fields import MomentField, utc_iso
from homelog.api.renderers import ORJSON_OPTIONS
from homelog.statements import RequestingUser, Statement
from readings.usage import Interval, UsageError, household_summary, resolve_range, source_usage
from readings.usage.cache import cached, household_key
from sources.models import DataSource

RANGE_HELP = (
    "ISO 8601 date or date-time; without an offset, in the household's time zone. `end` is exclusive: "
    "start=2025-01-01&end=2025-02-01 is January."
)


class UsageQuerySerializer(serializers.Serializer):
    """The query string; `context["tzinfo"]` reads moments written without an offset."""

    interval = serializers.ChoiceField(choices=[i.value for i in Interval], required=False)
    start = MomentField(required=False, help_text=RANGE_HELP)
    end = MomentField(required=False, help_text=RANGE_HELP)


class SourceUsageQuerySerializer(UsageQuerySerializer):
    metric = serializers.CharField(required=False, help_text="Needed when the source has several metrics.")


def _query(serializer_class, request, tzinfo):
    query = serializer_class(data=request.query_params, context={"tzinfo": tzinfo})
    query.is_valid(raise_exception=True)
    return query.validated_data


def _invalid(error):
    return serializers.ValidationError({error.field or "non_field_errors": [str(error)]})


def _moment(value):
    return utc_iso(value)


def _consumption(bucket):
    return {
        "start": _moment(bucket.start),
        "end": _moment(bucket.end),
        "consumption": bucket.consumption,
        "cost": bucket.cost,
        "coverage": bucket.coverage,
    }


def _measurement(bucket):
    return {
        "start": _moment(bucket.start),
        "end": _moment(bucket.end),
        "average": bucket.average,
        "minimum": bucket.minimum,
        "maximum": bucket.maximum,
        "count": bucket.count,
    }


def render_source_usage(usage):
    source = usage.source
    render = _consumption if usage.kind == "cumulative" else _measurement
    return {
        "source": source.pk,
        "metric": usage.metric,
        "unit": usage.unit,
        "kind": usage.kind,
        "interval": usage.interval.value,
        "timezone": source.household.timezone,
        "start": _moment(usage.start),
        "end": _moment(usage.end),
        "price_per_unit": None if source.price_per_unit is None else str(source.price_per_unit),
        "total": render(usage.total),
        "buckets": [render(bucket) for bucket in usage.buckets],
    }


def _period(period):
    return {
        "start": _moment(period.start),
        "end": _moment(period.end),
        "cost": period.cost,
        "totals": [
            {"type": total.type, "unit": total.unit, "consumption": total.consumption, "cost": total.cost}
            for total in period.totals
        ],
        "sources": [
            {
                "source": series.source.pk,
                "name": series.source.name,
                "type": series.source.type,
                "metric": series.metric,
                "unit": series.unit,
                "consumption": series.consumption,
                "cost": series.cost,
                "coverage": series.coverage,
                "buckets": [_consumption(bucket) for bucket in series.buckets],
            }
            for series in period.sources
        ],
    }


def render_household_summary(summary):
    return {
        "household": summary.household.pk,
        "interval": summary.interval.value,
        "timezone": summary.household.timezone,
        "current": _period(summary.current),
        "previous": _period(summary.previous),
        "year_earlier": _period(summary.year_earlier),
    }


# Response shapes, for the OpenAPI schema only: answers are built by the render functions above, which the
# API tests compare with these shapes.
class ConsumptionBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    consumption = serializers.FloatField(allow_null=True, help_text="Null when nothing is known.")
    cost = serializers.FloatField(allow_null=True, help_text="Consumption times price; null without a price.")
    coverage = serializers.FloatField(help_text="Share of the bucket's time between two readings, 0 to 1.")


class MeasurementBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    average = serializers.FloatField(allow_null=True)
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class SourceUsageSerializer(serializers.Serializer):
    source = serializers.IntegerField()
    metric = serializers.CharField()
    unit = serializers.CharField()
    kind = serializers.ChoiceField(choices=["cumulative", "instantaneous"])
    interval = serializers.ChoiceField(choices=[i.value for i in Interval])
    timezone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    price_per_unit = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True)
    total = ConsumptionBucketSerializer(help_text="Measurement fields instead for an instantaneous metric.")
    buckets = ConsumptionBucketSerializer(many=True)


class TypeTotalSerializer(serializers.Serializer):
    type = serializers.CharField()
    unit = serializers.CharField()
    consumption = serializers.FloatField(allow_null=True)
    cost = serializers.FloatField(allow_null=True)


class SeriesUsageSerializer(serializers.Serializer):
    source = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField()
    metric = serializers.CharField()
    unit = serializers.CharField()
    consumption = serializers.FloatField(allow_null=True)
    cost = serializers.FloatField(allow_null=True)
    coverage = serializers.FloatField()
    buckets = ConsumptionBucketSerializer(many=True)


class PeriodUsageSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    cost = serializers.FloatField(allow_null=True)
    totals = TypeTotalSerializer(many=True)
    sources = SeriesUsageSerializer(many=True)


class HouseholdUsageSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    interval = serializers.ChoiceField(choices=[i.value for i in Interval])
    timezone = serializers.CharField()
    current = PeriodUsageSerializer()
    previous = PeriodUsageSerializer(help_text="The same range, moved back by as many intervals as it spans.")
    year_earlier = PeriodUsageSerializer()


class SourceUsageView(APIView):
    @extend_schema(
        summary="A source's consumption (or measurements) per hour, day, week, month or year",
        description="Buckets follow the household's time zone (a local day may have 23 or 25 hours). "
        "Without start and end: the last buckets up to the current one (30 days by day).",
        parameters=[SourceUsageQuerySerializer],
        responses=SourceUsageSerializer,
    )
    def get(self, request, source_pk):
        sources = DataSource.objects.visible_to(request.user).select_related("household")
        source = get_object_or_404(sources, pk=source_pk)
        query = _query(SourceUsageQuerySerializer, request, source.household.tzinfo)
        metric = query.get("metric")
        if metric is None:
            if len(source.metrics) > 1:
                known = ", ".join(source.metric_names)
                message = f"Choose one of this source's metrics: {known}."
                raise serializers.ValidationError({"metric": [message]})
            (metric,) = source.metrics
        try:
            usage = source_usage(
                source, metric, query.get("start"), query.get("end"), query.get("interval", Interval.DAY)
            )
        except UsageError as error:
            raise _invalid(error) from None
        return Response(render_source_usage(usage))


def _visible_household(param, shape):
    user = RequestingUser(param("user", IntegerField()))
    return (
        Household.objects.visible_to(user)
        .filter(pk=param("household", IntegerField()))
        .values_list("timezone")
    )


# Compiled once: the access check of every household answer, before its cache look-up.
VISIBLE_HOUSEHOLD = Statement(_visible_household)


class HouseholdUsageView(APIView):
    @extend_schema(
        summary="A household's consumption and cost per source and type, with comparisons",
        description="Every cumulative metric of every source, totals per source type and unit, for the range "
        "and for the previous period and the same period a year earlier. Without start and end: the "
        "last 12 months by month.",
        parameters=[UsageQuerySerializer],
        responses=HouseholdUsageSerializer,
    )
    def get(self, request, household_pk):
        found = VISIBLE_HOUSEHOLD.run(None, user=request.user.pk, household=household_pk)
        if not found:
            raise NotFound()
        [(timezone,)] = found
        tzinfo = zoneinfo.ZoneInfo(timezone)
        query = _query(UsageQuerySerializer, request, tzinfo)
        interval = query.get("interval", Interval.MONTH)
        try:
            start, end = resolve_range(tzinfo, interval, query.get("start"), query.get("end"))

            def answer():
                household = Household.objects.get(pk=household_pk)
                summary = household_summary(household, start, end, interval)
                return orjson.dumps(render_household_summary(summary), option=ORJSON_OPTIONS)

            # The whole answer, as JSON, under the household's sources as they are now: on a hit, two small
            # queries and one look-up; building and rendering the summary were two thirds of the time.
            key = household_key("household-answer", household_pk, timezone, start, end, interval)
            body = cached(key, answer)
        except UsageError as error:
            raise _invalid(error) from None
        return Response(orjson.Fragment(body))
