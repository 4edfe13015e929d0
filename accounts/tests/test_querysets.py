import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import Household, Membership

pytestmark = pytest.mark.django_db


def test_a_user_sees_exactly_their_households(household, owner, member, viewer, outsider, other_household):
    assert list(Household.objects.visible_to(owner)) == [household]
    assert list(Household.objects.visible_to(viewer)) == [household]
    assert list(Household.objects.visible_to(outsider)) == [other_household]
    assert list(Household.objects.visible_to(AnonymousUser())) == []


def test_owned_by_lists_only_households_the_user_owns(household, owner, member):
    assert list(Household.objects.owned_by(owner)) == [household]
    assert list(Household.objects.owned_by(member)) == []


def test_members_see_the_memberships_of_their_households_only(household, owner, member, outsider):
    visible = Membership.objects.visible_to(member)
    assert sorted(m.user.email for m in visible) == sorted([owner.email, member.email])
    assert [m.user for m in Membership.objects.visible_to(outsider)] == [outsider]
