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
