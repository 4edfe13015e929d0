"""Writes to accounts that touch several rows."""

from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Household, Invitation, Membership, Role, normalize_email


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


class AlreadyMember(Exception):
    """Whoever uses this address belongs to the household already."""


def invite(*, household, email, role, invited_by):
    """Invite whoever signs in with `email` to `household` with `role`; return the invitation. Inviting the
    same address again offers the new role. AlreadyMember when the address is a member's: the owner sees
    the members anyway, so saying so tells nothing new."""
    email = normalize_email(email)
    if Membership.objects.filter(household=household, user__email=email).exists():
        raise AlreadyMember(email)
    invitation, _ = Invitation.objects.update_or_create(
        household=household, email=email, defaults={"role": role, "invited_by": invited_by}
    )
    return invitation


@transaction.atomic
def accept_invitation(invitation, *, user):
    """Make `user`, to whose address `invitation` is, a member with the role offered; return the membership.
    Invitation.DoesNotExist when it was withdrawn or accepted meanwhile. Someone who is a member already
    keeps their role."""
    if not Invitation.objects.select_for_update().filter(pk=invitation.pk, email=user.email).exists():
        raise Invitation.DoesNotExist(f"Invitation {invitation.pk} is no longer open.")
    membership, _ = Membership.objects.get_or_create(
        household_id=invitation.household_id, user=user, defaults={"role": invitation.role}
    )
    Invitation.objects.filter(pk=invitation.pk).delete()
    return membership
