from django.apps import apps
from django.contrib.auth.base_user import BaseUserManager
from django.db import models

from accounts.roles import Role


class UserManager(BaseUserManager):
    """Users are identified by email, compared without regard to case."""

    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email=(username or "").strip().lower())

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)


def household_ids_of(user, roles=None):
    """A subquery of the ids of the households `user` belongs to (optionally only with one of `roles`)."""
    # The model of the memberships from the app registry: it is defined beside the querysets it is read by
    # (accounts/models.py imports this module), and needs no import of its own here.
    Membership = apps.get_model("accounts", "Membership")
    # By id: `user` may also stand for a user of a compiled statement (readings/api/views.py).
    if not user.is_authenticated:
        return Membership.objects.none().values("household_id")
    memberships = Membership.objects.filter(user_id=user.pk)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return memberships.values("household_id")


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(pk__in=household_ids_of(user))

    def owned_by(self, user):
        return self.filter(pk__in=household_ids_of(user, roles=[Role.OWNER]))

    def writable_by(self, user):
        """Households where the user may add sources and readings: owners and members, not viewers."""
        return self.filter(pk__in=household_ids_of(user, roles=[Role.OWNER, Role.MEMBER]))

    def with_role_of(self, user):
        """Annotate `role`: the user's role in each household (None where they have none)."""
        role = self.model.memberships.rel.related_model.objects.filter(
            household=models.OuterRef("pk"), user=user
        ).values("role")[:1]
        return self.annotate(role=models.Subquery(role))

    def with_rights_of(self, user):
        """Annotate `user_is_owner`: whether `user` may change the household's settings."""
        owned = self.model._default_manager.owned_by(user)
        return self.annotate(user_is_owner=models.Exists(owned.filter(pk=models.OuterRef("pk"))))


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Memberships of every household the user belongs to (so members can see each other)."""
        return self.filter(household_id__in=household_ids_of(user))

    def owners(self):
        return self.filter(role=Role.OWNER)


class InvitationQuerySet(models.QuerySet):
    def addressed_to(self, user):
        """The invitations the user may accept or decline: those to their email address."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(email=user.email)

    def of_households_owned_by(self, user):
        """The invitations the user may see and withdraw: those of the households they own."""
        return self.filter(household_id__in=household_ids_of(user, roles=[Role.OWNER]))
