"""Writes to accounts that touch several rows."""

from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Household, Membership, Role


@transaction.atomic
def create_household(*, name, timezone, owner):
    """Create a household with `owner` as its first owner."""
    household = Household.objects.create(name=name, timezone=timezone)
    Membership.objects.create(household=household, user=owner, role=Role.OWNER)
    return household


@transaction.atomic
def change_password(*, user, password):
    """Set a new password and revoke every refresh token issued before it.

    Access tokens carry a hash of the password hash (simplejwt's CHECK_REVOKE_TOKEN), so the new hash
    invalidates them too; blacklisting the refresh tokens keeps the token tables truthful as well.
    """
    user.set_password(password)
    user.save(update_fields=["password"])
    revoke_refresh_tokens(user)


def revoke_refresh_tokens(user):
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=token_id) for token_id in outstanding.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )
