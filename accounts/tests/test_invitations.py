"""Membership is an invitation the invitee accepts: an owner invites an email address, and the answer is the
same whether or not the address has an account; whoever signs in with it joins, or declines."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Invitation, Membership, Role
from accounts.tests.factories import HouseholdFactory, InvitationFactory, UserFactory
from homelog.api.fixtures import bearer_client
from homelog.testing import assert_constant_queries

pytestmark = pytest.mark.django_db


def members_url(household):
    return f"/api/households/{household.pk}/members"


def invitation_json(invitation, invited_by):
    return {
        "id": invitation.pk,
        "household_id": invitation.household_id,
        "household_name": invitation.household.name,
        "email": invitation.email,
        "role": invitation.role,
        "invited_by": invited_by,
        "created_at": invitation.created_at.isoformat().replace("+00:00", "Z"),
    }


def test_inviting_a_known_and_an_unknown_address_answers_alike_and_adds_nobody(api, owner, household):
    UserFactory(email="kim@example.com")
    client = api(owner)
    known = client.post(members_url(household), {"email": "Kim@Example.com", "role": "viewer"})
    unknown = client.post(members_url(household), {"email": "nobody@example.com", "role": "viewer"})
    assert (known.status_code, unknown.status_code) == (202, 202)
    shape = {key for key in known.json() if key not in ("id", "email", "created_at")}
    assert shape == {key for key in unknown.json() if key not in ("id", "email", "created_at")}
    invitations = {invitation.email: invitation for invitation in Invitation.objects.all()}
    assert known.json() == invitation_json(invitations["kim@example.com"], owner.get_full_name())
    assert unknown.json() == invitation_json(invitations["nobody@example.com"], owner.get_full_name())
    assert list(Membership.objects.filter(household=household).values_list("user", flat=True)) == [owner.pk]


def test_inviting_again_offers_the_new_role_and_a_member_is_a_conflict(api, owner, member, household):
    client = api(owner)
    client.post(members_url(household), {"email": "kim@example.com", "role": "viewer"})
    again = client.post(members_url(household), {"email": "kim@example.com", "role": "member"})
    assert again.status_code == 202
    assert list(Invitation.objects.values_list("email", "role")) == [("kim@example.com", "member")]
    twice = client.post(members_url(household), {"email": member.email, "role": "owner"})
    assert twice.status_code == 409
    assert twice.json()["detail"] == f"{member.email} is already a member of this household."


def test_the_invitee_sees_and_accepts_and_joins_with_the_role_offered(api, owner, household):
    invitation = InvitationFactory(
        household=household, email="kim@example.com", role=Role.VIEWER, invited_by=owner
    )
    kim = UserFactory(email="kim@example.com")
    client = api(kim)
    assert client.get("/api/invitations").json() == [invitation_json(invitation, owner.get_full_name())]
    assert client.get(f"/api/households/{household.pk}").status_code == 404
    accepted = client.post(f"/api/invitations/{invitation.pk}/accept")
    assert accepted.status_code == 201
    assert accepted.json()["id"] == household.pk
    assert accepted.json()["role"] == "viewer"
    assert Membership.objects.get(user=kim).role == Role.VIEWER
    assert not Invitation.objects.exists()
    assert client.post(f"/api/invitations/{invitation.pk}/accept").status_code == 404


def test_nobody_else_can_accept_or_see_an_invitation(api, owner, member, household):
    invitation = InvitationFactory(household=household, email="kim@example.com")
    stranger = UserFactory(email="someone@example.com")
    assert api(stranger).get("/api/invitations").json() == []
    assert api(stranger).post(f"/api/invitations/{invitation.pk}/accept").status_code == 404
    assert api(stranger).delete(f"/api/invitations/{invitation.pk}").status_code == 404
    # A household's invitations are its owners' to see and withdraw.
    url = f"/api/households/{household.pk}/invitations"
    assert api(member).get(url).status_code == 403
    assert api(stranger).get(url).status_code == 404
    assert [row["email"] for row in api(owner).get(url).json()] == ["kim@example.com"]
    assert api(owner).delete(f"{url}/{invitation.pk}").status_code == 204
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"email": "not an address", "role": "member"}, {"email": ["Enter a valid email address."]}),
        ({"email": "kim@example.com", "role": "king"}, {"role": ['"king" is not a valid choice.']}),
        ({"role": "member"}, {"email": ["This field is required."]}),
    ],
)
def test_a_bad_invitation_is_a_400_naming_the_field_and_stores_nothing(api, owner, household, body, errors):
    response = api(owner).post(members_url(household), body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert not Invitation.objects.exists()


def test_another_households_invitations_are_not_found(api, owner):
    elsewhere = HouseholdFactory()
    invitation = InvitationFactory(household=elsewhere)
    assert api(owner).post(members_url(elsewhere), {"email": "kim@example.com"}).status_code == 404
    url = f"/api/households/{elsewhere.pk}/invitations"
    assert api(owner).get(url).status_code == 404
    assert api(owner).delete(f"{url}/{invitation.pk}").status_code == 404
    assert Invitation.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time anyway")
@pytest.mark.django_db(transaction=True)
def test_an_invitation_accepted_twice_at_once_makes_one_membership(household):
    kim = UserFactory(email="kim@example.com")
    for round_ in range(5):
        invitation = InvitationFactory(household=household, email=kim.email, role=Role.VIEWER)
        barrier = threading.Barrier(2)
        statuses = []

        def accept(invitation=invitation, barrier=barrier, statuses=statuses):
            client = bearer_client(kim)
            barrier.wait()
            try:
                statuses.append(client.post(f"/api/invitations/{invitation.pk}/accept").status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=accept) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 404], round_
        assert Membership.objects.filter(household=household, user=kim).count() == 1
        assert not Invitation.objects.exists()
        Membership.objects.filter(user=kim).delete()


def test_the_invitee_declines(api, household):
    invitation = InvitationFactory(household=household, email="kim@example.com")
    kim = UserFactory(email="kim@example.com")
    assert api(kim).delete(f"/api/invitations/{invitation.pk}").status_code == 204
    assert not Invitation.objects.exists()
    assert not Membership.objects.filter(user=kim).exists()


def test_invitation_lists_run_a_constant_number_of_queries(api, owner, household):
    kim = UserFactory(email="kim@example.com")

    def grow_invitations_to_kim(n):
        for _ in range(n):
            InvitationFactory(household=HouseholdFactory(), email=kim.email, invited_by=owner)

    assert_constant_queries(api(kim), "/api/invitations", grow_invitations_to_kim)
    assert_constant_queries(
        api(owner),
        f"/api/households/{household.pk}/invitations",
        lambda n: InvitationFactory.create_batch(n, household=household, invited_by=owner),
    )


def test_pages_invite_and_the_invitee_joins_from_the_home_page(client, owner, household):
    client.force_login(owner)
    response = client.post(
        reverse("accounts:member-add", args=[household.pk]), {"email": "Kim@Example.com", "role": "viewer"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    settings_page = client.get(reverse("accounts:household-settings", args=[household.pk])).content.decode()
    assert "kim@example.com" in settings_page
    assert "not accepted yet" in settings_page

    kim = UserFactory(email="kim@example.com")
    client.force_login(kim)
    home = client.get(reverse("readings:home")).content.decode()
    assert "Invitations" in home
    assert household.name in home
    response = client.post(reverse("accounts:invitation-answer", args=[invitation.pk]), {"accept": "1"})
    assert response.status_code == 302
    assert Membership.objects.get(user=kim, household=household).role == Role.VIEWER
    assert not Invitation.objects.exists()


def test_pages_decline_and_withdraw(client, owner, household):
    declined = InvitationFactory(household=household, email="kim@example.com")
    withdrawn = InvitationFactory(household=household, email="lou@example.com")
    kim = UserFactory(email="kim@example.com")
    client.force_login(kim)
    # Another address's invitation is as unknown as any.
    assert (
        client.post(reverse("accounts:invitation-answer", args=[withdrawn.pk]), {"accept": "1"}).status_code
        == 404
    )
    assert (
        client.post(reverse("accounts:invitation-answer", args=[declined.pk]), {"decline": "1"}).status_code
        == 302
    )
    client.force_login(owner)
    url = reverse("accounts:invitation-withdraw", args=[household.pk, withdrawn.pk])
    assert client.post(url).status_code == 302
    assert not Invitation.objects.exists()
    assert not Membership.objects.filter(user=kim).exists()


def test_home_page_queries_do_not_grow_with_invitations(client, owner):
    client.force_login(owner)
    assert_constant_queries(
        client,
        reverse("readings:home"),
        lambda n: [InvitationFactory(household=HouseholdFactory(), email=owner.email) for _ in range(n)],
    )
