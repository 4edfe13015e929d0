from django.db import models

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


class DeviceTokenQuerySet(models.QuerySet):
    def manageable_by(self, user):
        """Tokens the user may list, issue and revoke: those of sources in households they own."""
        from accounts.models import Role

        return self.filter(data_source__household_id__in=household_ids_of(user, roles=[Role.OWNER]))

    def active(self):
        return self.filter(revoked_at__isnull=True)

    def for_secret(self, secret):
        """The active token with this secret, if any, with its source and household for the request."""
        from sources.models import DeviceToken

        return (
            self.active()
            .select_related("data_source__household")
            .filter(secret_hash=DeviceToken.hash_secret(secret))
            .first()
        )
