import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import Household
from sources.metrics import MetricKind, validate_metrics
from sources.querysets import DataSourceQuerySet, DeviceTokenQuerySet


class SourceType(models.TextChoices):
    ELECTRICITY = "electricity", "Electricity"
    GAS = "gas", "Gas"
    WATER = "water", "Water"
    HEAT = "heat", "Heat"
    SOLAR = "solar", "Solar"
    TEMPERATURE = "temperature", "Temperature"
    HUMIDITY = "humidity", "Humidity"
    OTHER = "other", "Other"


def units_of(metrics):
    """Stored metrics as the API renders them: {"name": "unit"}, by name (jsonb keeps no order)."""
    return {name: metrics[name]["unit"] for name in sorted(metrics)}


def kinds_of(metrics):
    """Stored metrics' kinds as the API renders them: {"name": "cumulative" or "instantaneous"}, by name."""
    return {name: MetricKind.of(metrics[name]).value for name in sorted(metrics)}


# Fields that only the writers of readings move, with F() updates.
WRITTEN_BY_READINGS = frozenset({"reading_count", "readings_version"})


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
    # A counter rather than COUNT(*) per request: counting 100,000 readings of each source made the source
    # list take tens of milliseconds per source. Every write path keeps it in step (readings.changes).
    reading_count = models.PositiveBigIntegerField(default=0, editable=False)
    # Moves, in the writer's transaction, at every change to the source's readings: usage computed from
    # them is cached under it (readings/usage/cache.py). In the database rather than in the cache, so that a
    # change made while the cache is away cannot leave an old result reachable once it is back.
    readings_version = models.PositiveBigIntegerField(default=0, editable=False)
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

    def save(self, *args, **kwargs):
        # The counter and the version move only by the F() updates of the writers of readings: a source loaded
        # before some readings were stored would otherwise put its stale values back when it is saved.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in WRITTEN_BY_READINGS
            ]
        super().save(*args, **kwargs)

    @property
    def metric_names(self):
        # Sorted: PostgreSQL's jsonb does not keep the order in which keys were written.
        return sorted(self.metrics)

    @property
    def units(self):
        """The metrics as the API renders them: {"name": "unit"}."""
        return units_of(self.metrics)

    @property
    def metric_kinds(self):
        return kinds_of(self.metrics)

    def kind_of(self, metric):
        return MetricKind.of(self.metrics[metric])

    def is_cumulative(self, metric):
        return self.kind_of(metric) is MetricKind.CUMULATIVE


class DeviceToken(models.Model):
    """A secret that lets one device add readings to one source, and do nothing else.

    Only a SHA-256 hash of the secret is stored: the secret is random and long, so a slow password hash
    would add nothing but time to every request, and the plain secret is shown once, when it is issued.
    """

    SECRET_PREFIX = "hlt_"

    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="device_tokens")
    name = models.CharField(max_length=120, help_text="Which device holds it, e.g. 'Hallway meter reader'.")
    # The first characters of the secret, so that a person can tell which token a device has.
    prefix = models.CharField(max_length=12, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = DeviceTokenQuerySet.as_manager()

    class Meta:
        ordering = ["data_source_id", "-created_at", "id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_secret(secret):
        return hashlib.sha256(secret.encode()).hexdigest()

    def set_new_secret(self):
        """Give the token a new random secret and return it; only its hash is kept."""
        secret = self.SECRET_PREFIX + secrets.token_urlsafe(32)
        self.prefix = secret[:12]
        self.secret_hash = self.hash_secret(secret)
        return secret

    @classmethod
    def issue(cls, *, data_source, name, created_by=None):
        """Create a token and return it with its secret, which is not stored and cannot be shown again."""
        token = cls(data_source=data_source, name=name, created_by=created_by)
        secret = token.set_new_secret()
        token.save()
        return token, secret

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def record_use(self, *, every=dt.timedelta(minutes=1)):
        """Note that the token was just used, writing at most once per `every` so a busy device costs
        one UPDATE a minute, not one per request."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= every:
            self.last_used_at = now
            DeviceToken.objects.filter(pk=self.pk).update(last_used_at=now)
