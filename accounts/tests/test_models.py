import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import Household, LastOwnerError, Membership, Role, User
from accounts.tests.factories import HouseholdFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_stored_lower_case_and_logs_in_without_regard_to_case():
    user = User.objects.create_user("  Alice@Example.COM ", password="s3cret-pass-phrase")
    assert user.email == "alice@example.com"
    assert User.objects.get_by_natural_key("ALICE@example.com") == user


def test_email_is_unique_without_regard_to_case():
    UserFactory(email="bob@example.com")
    with pytest.raises(IntegrityError):
        User.objects.create_user("BOB@example.com", password="x")


def test_clean_reports_a_duplicate_email():
    UserFactory(email="carol@example.com")
    with pytest.raises(ValidationError) as exc:
        User(email="Carol@Example.com").clean()
    assert exc.value.message_dict == {"email": ["A user with this email address already exists."]}


def test_create_superuser_sets_staff_flags():
    admin = User.objects.create_superuser("root@example.com", password="x")
    assert (admin.is_staff, admin.is_superuser) == (True, True)


def test_household_timezone_must_be_iana():
    household = Household(name="Flat", timezone="Mars/Olympus")
    with pytest.raises(ValidationError) as exc:
        household.full_clean()
    assert exc.value.message_dict == {
        "timezone": ["'Mars/Olympus' is not a known IANA time zone, e.g. 'Europe/Berlin'."]
    }
    household.timezone = "America/New_York"
    household.full_clean()


def test_one_membership_per_user_and_household():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=membership.user, household=membership.household, role=Role.VIEWER)


def test_last_owner_cannot_be_removed(household, owner, member):
    membership = Membership.objects.get(user=owner, household=household)
    with pytest.raises(LastOwnerError):
        membership.delete()
    assert Membership.objects.filter(household=household).count() == 2


def test_last_owner_cannot_be_demoted(household, owner):
    membership = Membership.objects.get(user=owner, household=household)
    membership.role = Role.MEMBER
    with pytest.raises(LastOwnerError):
        membership.save()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_an_owner_can_leave_when_another_owner_remains(household, owner):
    second = MembershipFactory(household=household, role=Role.OWNER)
    Membership.objects.get(user=owner, household=household).delete()
    assert list(Membership.objects.filter(household=household).values_list("user", flat=True)) == [
        second.user_id
    ]


def test_members_and_viewers_can_be_removed(household, owner, member):
    Membership.objects.get(user=member).delete()
    assert list(Membership.objects.filter(household=household).values_list("role", flat=True)) == ["owner"]


def test_deleting_a_household_removes_its_memberships(household, owner):
    household.delete()
    assert Membership.objects.count() == 0


def test_role_must_be_a_known_role():
    with pytest.raises(IntegrityError):
        MembershipFactory(household=HouseholdFactory(), role="king")
