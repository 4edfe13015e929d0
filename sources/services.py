"""Writes of sources that touch other rows."""

from django.conf import settings
from django.db import transaction

from accounts.models import Household, Membership, User
from accounts.services import create_household


class NoHouseholdToAddTo(Exception):
    """The caller belongs to households but may add sources to none of them (a viewer)."""


class SeveralHouseholdsToAddTo(Exception):
    """The caller may add sources to several households, so a request must say which."""

    def __init__(self, household_ids):
        super().__init__(f"several households: {household_ids}")
        self.household_ids = household_ids


def household_for_new_source(*, user):
    """The household a source goes to when its creator names none, as clients of the original service do:
    the only one where `user` may add sources, or, when `user` belongs to no household, a new one of
    their own ("<name>'s home", in the server's time zone, with them as owner).

    Raises SeveralHouseholdsToAddTo or NoHouseholdToAddTo when there is no one answer. Call it inside the
    transaction that creates the source, so that a source that fails leaves no household behind.
    """
    with transaction.atomic():
        # The user's row is locked so that two first sources sent at once make one household, not two:
        # the second request waits here and then finds the household the first one made.
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        writable = list(Household.objects.writable_by(user).order_by("pk")[:2])
        if len(writable) == 1:
            return writable[0]
        if writable:
            ids = list(Household.objects.writable_by(user).order_by("pk").values_list("pk", flat=True))
            raise SeveralHouseholdsToAddTo(ids)
        if Membership.objects.filter(user_id=user.pk).exists():
            raise NoHouseholdToAddTo()
        return create_household(name=own_household_name(user), timezone=settings.TIME_ZONE, owner=user)


def own_household_name(user):
    """ "Alexa's home", within the length of a household's name."""
    suffix = "'s home"
    room = Household._meta.get_field("name").max_length - len(suffix)
    return user.get_short_name()[:room] + suffix
