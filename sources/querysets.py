from django.db import models
from django.db.models import Exists, JSONField, OuterRef, Subquery

from accounts.querysets import household_ids_of


class DataSourceQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(household_id__in=household_ids_of(user))

    def editable_by(self, user):
        """Sources whose settings the user may change: those of households they own."""
        from accounts.models import Role

        return self.filter(household_id__in=household_ids_of(user, roles=[Role.OWNER]))

    def writable_by(self, user):
        """Sources the user may add readings to: owners and members, not viewers."""
        from accounts.models import Role

        return self.filter(household_id__in=household_ids_of(user, roles=[Role.OWNER, Role.MEMBER]))

    def active(self):
        return self.filter(is_active=True)

    def with_rights_of(self, user):
        """Annotate `user_can_write` (may add readings) and `user_can_edit` (may change the source)."""
        manager = self.model._default_manager
        return self.annotate(
            user_can_write=Exists(manager.writable_by(user).filter(pk=OuterRef("pk"))),
            user_can_edit=Exists(manager.editable_by(user).filter(pk=OuterRef("pk"))),
        )

    def with_latest_reading(self):
        """Annotate `latest_reading_timestamp` and `latest_reading_values` from the newest reading.

        Each is one correlated subquery that walks the (data_source, timestamp) index backwards, so a
        list of sources costs one query however many readings they have.
        """
        newest = _newest_readings()
        return self.annotate(
            latest_reading_timestamp=Subquery(newest.values("timestamp")[:1]),
            latest_reading_values=Subquery(newest.values("values")[:1], output_field=JSONField()),
        )

    def with_recent_pace(self, readings=10):
        """Annotate `pace_reading_at`: the timestamp of the `readings`-th newest reading (None if fewer).

        With `latest_reading_timestamp` it tells how often the source was read lately, without counting rows.
        """
        newest = _newest_readings()
        return self.annotate(pace_reading_at=Subquery(newest.values("timestamp")[readings - 1 : readings]))


def _newest_readings():
    # Imported here: readings.models imports this module (through sources.models).
    from readings.models import Reading

    return Reading.objects.filter(data_source=OuterRef("pk")).order_by("-timestamp")
