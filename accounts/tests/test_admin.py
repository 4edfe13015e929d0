import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from accounts.tests.factories import HouseholdFactory, InvitationFactory, MembershipFactory, UserFactory
from homelog.testing import assert_constant_queries
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def grow_households(n):
    for _ in range(n):
        household = HouseholdFactory()
        MembershipFactory(household=household, role=Role.OWNER)
        DataSourceFactory(household=household)


@pytest.mark.parametrize(
    ("url_name", "grow"),
    [
        ("admin:accounts_user_changelist", UserFactory.create_batch),
        ("admin:accounts_household_changelist", grow_households),
        ("admin:accounts_membership_changelist", MembershipFactory.create_batch),
        ("admin:accounts_invitation_changelist", InvitationFactory.create_batch),
    ],
)
def test_changelists_run_a_constant_number_of_queries(admin_client, url_name, grow):
    assert_constant_queries(admin_client, reverse(url_name), grow)


def test_household_changelist_shows_counts(admin_client, household, owner, member):
    DataSourceFactory(household=household)
    response = admin_client.get(reverse("admin:accounts_household_changelist"))
    content = response.content.decode()
    assert '<td class="field-member_count">2</td>' in content
    assert '<td class="field-source_count">1</td>' in content


def test_household_change_page_lists_memberships_inline(admin_client, household, owner):
    response = admin_client.get(reverse("admin:accounts_household_change", args=[household.pk]))
    assert response.status_code == 200
    assert owner.email in response.content.decode()


def test_inline_refuses_to_remove_the_last_owner(admin_client, household, owner):
    membership = Membership.objects.get(user=owner)
    data = {
        "name": household.name,
        "timezone": household.timezone,
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(membership.pk),
        "memberships-0-household": str(household.pk),
        "memberships-0-user": str(owner.pk),
        "memberships-0-role": "member",
    }
    response = admin_client.post(reverse("admin:accounts_household_change", args=[household.pk]), data)
    assert response.status_code == 200
    assert "A household must keep at least one owner." in response.content.decode()
    assert Membership.objects.get().role == Role.OWNER


def test_user_add_and_search(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302
    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": "new.person"})
    assert "new.person@example.com" in response.content.decode()


def test_non_staff_cannot_open_the_admin(client, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:accounts_household_changelist"))
    assert response.status_code == 302
