from django.db import models
from django.db.models.functions import Coalesce

from accounts.querysets import household_ids_of
from accounts.roles import Role


class DataSourceQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(household_id__in=household_ids_of(user))

    def editable_by(self, user):
        """Sources whose settings the user may change: those of households they own."""
        return self.filter(household_id__in=household_ids_of(user, roles=[Role.OWNER]))

    def writable_by(self, user):
        """Sources the user may add readings to: owners and members, not viewers."""
        return self.filter(household_id__in=household_ids_of(user, roles=[Role.OWNER, Role.MEMBER]))

    def active(self):
        return self.filter(is_active=True)

    def with_rights_of(self, user):
        """Annotate `user_can_write` (may add readings) and `user_can_edit` (may change the source)."""
        manager = self.model._default_manager
        return self.annotate(
            user_can_write=models.Exists(manager.writable_by(user).filter(pk=models.OuterRef("pk"))),
            user_can_edit=models.Exists(manager.editable_by(user).filter(pk=models.OuterRef("pk"))),
        )

    def _readings(self):
        """The readings' manager, reached through the relation the readings app declares onto sources: the
        readings depend on sources, never the other way round (no import of readings/ here)."""
        return self.model._meta.get_field("readings").related_model._default_manager

    def with_latest_reading(self):
        """Annotate `latest_reading_id`, `latest_reading_timestamp` and `latest_reading_values` (None when
        the source has no reading), each a subquery that reads one row of the (source, timestamp) index."""
        latest = self._readings().filter(data_source=models.OuterRef("pk")).order_by("-timestamp")[:1]
        return self.annotate(
            latest_reading_id=models.Subquery(latest.values("id")),
            latest_reading_timestamp=models.Subquery(latest.values("timestamp")),
            latest_reading_values=models.Subquery(latest.values("values")),
        )

    def recount_readings(self):
        """Set `reading_count` from the readings table, for writers that bypass the counter (a raw COPY, a
        bulk_create that ignores conflicts). One UPDATE with a counting subquery per source."""
        counted = (
            self._readings()
            .filter(data_source=models.OuterRef("pk"))
            .order_by()
            .values("data_source")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.update(reading_count=Coalesce(models.Subquery(counted), 0))

    def for_api(self):
        """What the API's and the pages' source lists show: the latest reading with the stored count, in one
        query."""
        return self.with_latest_reading()

    def with_recent_pace(self, readings=10):
        """Annotate `pace_reading_at`: the timestamp of the `readings`-th newest reading (None if fewer).

        With `latest_reading_timestamp` it tells how often the source was read lately, without counting rows.
        """
        newest = self._readings().filter(data_source=models.OuterRef("pk")).order_by("-timestamp")
        nth = newest.values("timestamp")[readings - 1 : readings]
        return self.annotate(pace_reading_at=models.Subquery(nth))


class DeviceTokenQuerySet(models.QuerySet):
    def manageable_by(self, user):
        """Tokens the user may list, issue and revoke: those of sources in households they own."""
        return self.filter(data_source__household_id__in=household_ids_of(user, roles=[Role.OWNER]))

    def active(self):
        return self.filter(revoked_at__isnull=True)

    def for_secret(self, secret):
        """The active token with this secret, if any, with its source and household for the request."""
        return (
            self.active()
            .select_related("data_source__household")
            .filter(secret_hash=self.model.hash_secret(secret))
            .first()
        )
