import json

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.json import KeyTransform
from uuid_utils.compat import uuid7

from readings.querysets import ReadingQuerySet
from sources.metrics import validate_values
from sources.models import DataSource

_INT64 = range(-(2**63), 2**64)


def _number_from_json(text):
    number = int(text)
    if number in _INT64:
        return number
    # Only a value written past homelog's validation gets here (PostgreSQL's jsonb writes 1e20 out in full):
    # as a double, as homelog reads every value, so that it can be rendered rather than fail the answer.
    try:
        return float(number)
    except OverflowError:
        return float("inf") if number > 0 else float("-inf")


class ValuesDecoder(json.JSONDecoder):
    """JSON of stored values, with integers beyond 64 bits read as doubles: orjson, which renders every API
    answer, cannot write them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, parse_int=_number_from_json, **kwargs)


class ValuesField(models.JSONField):
    """A reading's values, read with orjson: several times faster than the standard library, and it reads an
    integer beyond 64 bits as a double as well."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("decoder", ValuesDecoder)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        # Only reading differs from a JSONField, not the column: migrations see a plain JSONField, so the
        # field needs no migration of its own.
        name, _, args, kwargs = super().deconstruct()
        kwargs.pop("decoder", None)
        return name, "django.db.models.JSONField", args, kwargs

    def from_db_value(self, value, expression, connection):
        if type(value) is str and not isinstance(expression, KeyTransform):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass  # a number too large even for a double: the standard library's decoder reads it
        return super().from_db_value(value, expression, connection)


class Reading(models.Model):
    """The values of a source's metrics at one moment.

    The id may come from the client, so that a device that lost its connection can send the same reading
    again without storing it twice; generated ids are UUIDv7, which sort by creation time and keep the
    primary-key index compact.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=True)
    # No index of its own: the unique (data_source, timestamp) index below starts with it and serves every
    # look-up by source, and one index fewer to maintain makes bulk ingestion faster.
    data_source = models.ForeignKey(
        DataSource, on_delete=models.CASCADE, related_name="readings", db_index=False
    )
    timestamp = models.DateTimeField()
    # blank=True so that an empty object reaches clean() and gets its own message.
    values = ValuesField(blank=True, help_text='Metric name → number, e.g. {"energy": 1234.5}.')
    # Indexed only where set (see Meta): device and import readings have no creator, and an index entry for
    # each of them would slow every bulk write for nothing.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp"]
        constraints = [
            # Also the index behind "readings of a source in a time range, newest first".
            models.UniqueConstraint(
                fields=["data_source", "timestamp"], name="reading_source_timestamp_unique"
            ),
            models.CheckConstraint(condition=~models.Q(values={}), name="reading_values_not_empty"),
        ]
        indexes = [
            # Newest first across sources (the admin's readings list, of every source or of a household): its
            # keys are all a deep page skips, so that page 1,000 reads the index, not the table.
            models.Index(fields=["timestamp", "data_source"], name="reading_newest_first"),
            # Serves SET NULL when a user is deleted, and "readings this member entered".
            models.Index(
                fields=["created_by"],
                condition=models.Q(created_by__isnull=False),
                name="reading_created_by_set",
            ),
        ]

    def __str__(self):
        return f"{self.data_source} @ {self.timestamp.isoformat()}"

    # Every write of readings goes through readings.services, which keeps what is derived from them exact
    # (the source's counters, the usage rollups, cached usage); a plain save or delete would skip all that.

    def save(self, *args, **kwargs):
        raise TypeError(
            "Store readings with readings.services: create_reading(), update_reading() or ingest_readings()."
        )

    def delete(self, *args, **kwargs):
        raise TypeError("Delete readings with readings.services.delete_reading() or delete_readings().")

    def clean(self):
        super().clean()
        if self.data_source_id is not None and self.values is not None:
            try:
                validate_values(self.values, self.data_source.metrics)
            except ValidationError as exc:
                raise ValidationError({"values": exc.messages}) from exc


class HourlyRollup(models.Model):
    """What usage needs to know about the readings of one metric of a source within one UTC hour.

    Usage reads these instead of the readings wherever its bucket edges fall on whole UTC hours: a year of
    1-minute readings is 8,760 rows instead of 525,600. A row exists exactly when some reading of the source
    in that hour has a value for the metric, whatever the source's metrics say now (a metric removed from a
    source keeps its readings, and their rollups). Every writer of readings keeps the rows of the hours it
    touches right in its own transaction (readings/usage/rollup.py); `rebuild_usage_rollups` makes them
    afresh. Both kinds of numbers are kept for every metric, so that turning a register into a level, or
    back, needs no rebuild.
    """

    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="+", db_index=False)
    metric = models.CharField(max_length=64)  # sources.metrics.MAX_METRIC_NAME_LENGTH
    # The first instant of the hour, in UTC.
    hour = models.DateTimeField()
    first_at = models.DateTimeField()
    first_value = models.FloatField()
    last_at = models.DateTimeField()
    last_value = models.FloatField()
    # Sum of max(0, increase) between consecutive readings of the metric that both lie in the hour: a
    # register that went down (a meter replaced) counts again from its new value, as usage does.
    increase = models.FloatField()
    # For a level (°C, W): sum, number, lowest and highest of the values.
    total = models.FloatField()
    count = models.PositiveIntegerField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    class Meta:
        constraints = [
            # Also the index behind every look-up: a source's metric over a range of hours.
            models.UniqueConstraint(
                fields=["data_source", "metric", "hour"], name="hourlyrollup_source_metric_hour_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(count__gte=1)
                & models.Q(first_at__gte=models.F("hour"))
                & models.Q(last_at__gte=models.F("first_at"))
                & models.Q(maximum__gte=models.F("minimum"))
                & models.Q(increase__gte=0),
                name="hourlyrollup_consistent",
            ),
        ]

    def __str__(self):
        return f"{self.data_source_id} {self.metric} @ {self.hour.isoformat()}"
