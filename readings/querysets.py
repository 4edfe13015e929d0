from django.db import models

from accounts.querysets import household_ids_of


class ReadingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(data_source__household_id__in=household_ids_of(user))

    def editable_by(self, user):
        """Readings the user may change or delete: every one in households they own, and in households where
        they are a member, those they added themselves."""
        from accounts.models import Role

        if not user.is_authenticated:
            return self.none()
        owned = models.Q(data_source__household_id__in=household_ids_of(user, roles=[Role.OWNER]))
        own_as_member = models.Q(
            data_source__household_id__in=household_ids_of(user, roles=[Role.MEMBER]), created_by=user
        )
        return self.filter(owned | own_as_member)

    def of_source(self, data_source):
        return self.filter(data_source=data_source)

    def between(self, start=None, end=None):
        """Readings with start <= timestamp < end; either bound may be left open."""
        qs = self
        if start is not None:
            qs = qs.filter(timestamp__gte=start)
        if end is not None:
            qs = qs.filter(timestamp__lt=end)
        return qs

    def newest_first(self):
        return self.order_by("-timestamp")
