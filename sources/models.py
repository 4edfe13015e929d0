from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from accounts.models import Household
from sources.metrics import validate_metrics
from sources.querysets import DataSourceQuerySet


class SourceType(models.TextChoices):
    ELECTRICITY = "electricity", "Electricity"
    GAS = "gas", "Gas"
    WATER = "water", "Water"
    HEAT = "heat", "Heat"
    SOLAR = "solar", "Solar"
    TEMPERATURE = "temperature", "Temperature"
    HUMIDITY = "humidity", "Humidity"
    OTHER = "other", "Other"


class DataSource(models.Model):
    """A meter or sensor of a household, with the metrics its readings carry."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="data_sources")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=20, choices=SourceType.choices, default=SourceType.OTHER)
    metrics = models.JSONField(
        validators=[validate_metrics],
        help_text='Metric name → unit and kind, e.g. {"energy": {"unit": "kWh", "cumulative": true}}.',
    )
    price_per_unit = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Price of one unit of the cumulative metric(s), for cost; empty when unknown.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DataSourceQuerySet.as_manager()

    class Meta:
        ordering = ["household_id", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_per_unit__isnull=True) | models.Q(price_per_unit__gte=0),
                name="datasource_price_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["household", "type"], name="datasource_household_type")]

    def __str__(self):
        return self.name

    @property
    def metric_names(self):
        # Sorted: PostgreSQL's jsonb does not keep the order in which keys were written.
        return sorted(self.metrics)

    @property
    def units(self):
        """The metrics as the API renders them: {"name": "unit"}."""
        return {name: self.metrics[name]["unit"] for name in self.metric_names}

    @property
    def metric_kinds(self):
        return {
            name: "cumulative" if self.metrics[name]["cumulative"] else "instantaneous"
            for name in self.metric_names
        }

    def is_cumulative(self, metric):
        return bool(self.metrics[metric]["cumulative"])
