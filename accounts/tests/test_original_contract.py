"""What clients of the original home-log service rely on: `Location` on every 201, `username` beside
`display_name`, changing one's own account at /api/users/{id}, and POST /login with the OAuth2 form."""

import pytest

from accounts.models import Household, Invitation, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from sources.models import DataSource

pytestmark = pytest.mark.django_db


def test_every_201_says_where_the_new_object_is(api, owner, staff_user, household):
    created = api(owner).post("/api/households", {"name": "Cabin", "timezone": "UTC"}, format="json")
    assert created.status_code == 201
    cabin = Household.objects.get(name="Cabin")
    assert created["Location"] == f"http://testserver/api/households/{cabin.pk}"

    source = api(owner).post(
        "/api/sources",
        {"name": "Meter", "household": household.pk, "metrics": {"energy": "kWh"}},
        format="json",
    )
    assert source.status_code == 201
    assert source["Location"] == f"http://testserver/api/sources/{DataSource.objects.get(name='Meter').pk}"

    user = api(staff_user).post("/api/users", {"email": "new@example.com", "password": "a long passphrase 1"})
    assert user.status_code == 201
    assert user["Location"] == f"http://testserver/api/users/{User.objects.get(email='new@example.com').pk}"

    invited = api(owner).post(f"/api/households/{household.pk}/members", {"email": "kim@example.com"})
    assert invited.status_code == 202
    invitation = Invitation.objects.get()
    assert (
        invited["Location"] == f"http://testserver/api/households/{household.pk}/invitations/{invitation.pk}"
    )
    assert api(owner).get(invited["Location"]).json()["email"] == "kim@example.com"


def test_username_is_the_display_name_by_its_original_name(api, member):
    answer = api(member).patch("/api/users/me", {"username": "Kim"}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["username"], answer.json()["display_name"]) == ("Kim", "Kim")
    member.refresh_from_db()
    assert member.display_name == "Kim"
    both = api(member).patch("/api/users/me", {"username": "A", "display_name": "B"}, format="json")
    assert both.status_code == 400
    assert list(both.json()["errors"]) == ["username"]
    assert (
        api(member).patch("/api/users/me", {"username": "C", "display_name": "C"}, format="json").status_code
        == 200
    )


def test_put_and_patch_of_ones_own_id_change_ones_own_account(api, member, owner):
    url = f"/api/users/{member.pk}"
    patched = api(member).patch(url, {"display_name": "Kim"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["display_name"] == "Kim"
    put = api(member).put(url, {"email": member.email, "username": "Kim K"}, format="json")
    assert put.status_code == 200
    member.refresh_from_db()
    assert member.display_name == "Kim K"
    # A new email needs the current password, and a taken one is a 409, as at /api/users/me.
    assert api(member).patch(url, {"email": "kim@example.com"}, format="json").status_code == 400
    taken = api(member).patch(
        url, {"email": owner.email, "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert taken.status_code == 409
    # Someone else's account is not one's own to change.
    assert api(owner).patch(url, {"display_name": "Not yours"}, format="json").status_code == 403
    member.refresh_from_db()
    assert member.display_name == "Kim K"


def test_post_login_takes_the_oauth2_password_form(client):
    user = UserFactory(email="kim@example.com")
    response = client.post(
        "/login",
        f"grant_type=password&username=Kim%40example.com&password={DEFAULT_PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert set(body) >= {"access_token", "refresh_token"}
    validated = client.get("/api/auth/validate", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert validated.json()["id"] == user.pk
    wrong = client.post(
        "/login",
        "username=kim%40example.com&password=wrong",
        content_type="application/x-www-form-urlencoded",
    )
    assert wrong.status_code == 401
