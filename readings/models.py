from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from uuid_utils.compat import uuid7

from readings.changes import announce_readings_changed, count_readings
from readings.querysets import ReadingQuerySet
from sources.metrics import validate_values
from sources.models import DataSource


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
    values = models.JSONField(blank=True, help_text='Metric name → number, e.g. {"energy": 1234.5}.')
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
            # Serves SET NULL when a user is deleted, and "readings this member entered".
            models.Index(
                fields=["created_by"],
                condition=models.Q(created_by__isnull=False),
                name="reading_created_by_set",
            ),
        ]

    def __str__(self):
        return f"{self.data_source} @ {self.timestamp.isoformat()}"

    def clean(self):
        super().clean()
        if self.data_source_id is not None and self.values is not None:
            try:
                validate_values(self.values, self.data_source.metrics)
            except ValidationError as exc:
                raise ValidationError({"values": exc.messages}) from exc

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            deleted = super().delete(*args, **kwargs)
            count_readings(self.data_source_id, -1)
            announce_readings_changed([self.data_source_id])
        return deleted
