import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.querysets import HouseholdQuerySet, InvitationQuerySet, MembershipQuerySet, UserManager
from accounts.roles import Role


def normalize_email(email):
    return (email or "").strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    # Stored lower-case (see save()): this unique index makes addresses unique without regard to case.
    email = models.EmailField("email address", max_length=254, unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into the admin site.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lower_case"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)
        clash = User.objects.filter(email=self.email).exclude(pk=self.pk)
        if self.email and clash.exists():
            raise ValidationError({"email": "A user with this email address already exists."})

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.display_name or self.email

    def get_short_name(self):
        return self.display_name or self.email.split("@")[0]


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known IANA time zone, e.g. 'Europe/Berlin'.")


class Household(models.Model):
    name = models.CharField(max_length=120)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA time zone; days, weeks and months of usage follow it.",
    )
    members = models.ManyToManyField(User, through="Membership", related_name="households")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.timezone)


class LastOwnerError(ValidationError):
    def __init__(self):
        super().__init__("A household must keep at least one owner.", code="last_owner")


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["household_id", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "household"], name="membership_user_household_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "member", "viewer"]), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.household} ({self.role})"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            if self.pk and self.role != Role.OWNER:
                # The household's row is the lock every change of its owners takes first: two owners
                # demoting each other at once are checked one after the other.
                Household.objects.select_for_update().filter(pk=self.household_id).first()
                stored = Membership.objects.select_for_update().filter(pk=self.pk).first()
                if stored and stored.role == Role.OWNER and self._is_last_owner():
                    raise LastOwnerError()
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            # Lock the household's row (as a demotion does) so that concurrent changes are checked in turn.
            Household.objects.select_for_update().filter(pk=self.household_id).first()
            stored = Membership.objects.filter(pk=self.pk).values_list("role", flat=True).first()
            if stored == Role.OWNER and self._is_last_owner():
                raise LastOwnerError()
            return super().delete(*args, **kwargs)

    def _is_last_owner(self):
        other_owners = Membership.objects.owners().filter(household_id=self.household_id).exclude(pk=self.pk)
        return not other_owners.exists()


class UserCacheEpoch(models.Model):
    """One row, whose value moves when a change to a user could not be recorded in the shared cache (Redis was
    away). Cached users are kept with the value they were cached under, and an entry of an earlier value is
    not trusted (accounts/authentication.py): the database then decides, as it does without a cache."""

    value = models.PositiveBigIntegerField(default=0)

    THE_ROW = 1

    def __str__(self):
        return f"user cache epoch {self.value}"

    @classmethod
    def current(cls):
        return cls.objects.filter(pk=cls.THE_ROW).values_list("value", flat=True).first() or 0

    @classmethod
    def move(cls):
        """Move the value, in the caller's transaction."""
        if cls.objects.filter(pk=cls.THE_ROW).update(value=models.F("value") + 1):
            return
        try:
            with transaction.atomic():
                cls.objects.create(pk=cls.THE_ROW, value=1)
        except IntegrityError:  # made meanwhile by another writer
            cls.objects.filter(pk=cls.THE_ROW).update(value=models.F("value") + 1)


class Invitation(models.Model):
    """An owner's offer of a role in a household to whoever signs in with an email address: a membership
    once they accept it.

    Addressed to an email, not to a user, so that inviting an address tells the owner nothing about whether
    it has an account, and so that nobody is put into a household they did not choose. Inviting an address
    again changes the role offered.
    """

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("email address", max_length=254)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["household_id", "email"]
        constraints = [
            # Also the index of "the invitations of a household".
            models.UniqueConstraint(fields=["household", "email"], name="invitation_household_email_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "member", "viewer"]), name="invitation_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["email"], name="invitation_email")]

    def __str__(self):
        return f"{self.email} → {self.household} ({self.role})"

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)
