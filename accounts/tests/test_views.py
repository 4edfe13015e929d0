import os
import re
import subprocess
import sys

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import Household, Membership, Role
from accounts.tests.factories import DEFAULT_PASSWORD, InvitationFactory, MembershipFactory
from homelog.testing import assert_constant_queries
from sources.tests.factories import DataSourceFactory

SIGN_IN = "/account/sign-in/"


def signed_in(client, user):
    client.force_login(user)
    return client


# --- Signing in and out ----------------------------------------------------------------------------------


def test_sign_in_with_email_in_any_case_goes_home(client, owner):
    page = client.get(SIGN_IN)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_username">Email address</label>' in html
    assert 'autocomplete="email"' in html and 'inputmode="email"' in html
    assert '<label for="id_password">Password</label>' in html

    response = client.post(SIGN_IN, {"username": owner.email.upper(), "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert response.url == "/"
    assert client.get("/").status_code == 200


def test_sign_in_follows_next(client, owner):
    response = client.post(
        SIGN_IN, {"username": owner.email, "password": DEFAULT_PASSWORD, "next": "/sources/1/"}
    )
    assert response.url == "/sources/1/"


def test_a_wrong_password_is_refused_with_a_message(client, owner):
    response = client.post(SIGN_IN, {"username": owner.email, "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Please enter a correct email address and password. Note that both fields may be case-sensitive."
    ]
    assert '<div class="form-errors" role="alert">' in response.content.decode()
    assert client.get("/").status_code == 302


def test_sign_out_is_a_post_and_ends_the_session(client, owner):
    client = signed_in(client, owner)
    assert 'action="/account/sign-out/"' in client.get("/").content.decode()

    response = client.post("/account/sign-out/")

    assert response.status_code == 302
    assert response.url == SIGN_IN
    page = client.get(SIGN_IN).content.decode()
    # Said once, in a status region whose list keeps its items (no role on the list itself).
    assert '<div role="status">\n        <ul class="messages">' in page
    assert '<li class="message message--success">You are signed out.</li>' in page
    assert "You are signed out." not in client.get(SIGN_IN).content.decode()
    assert client.get("/").status_code == 302


def test_the_home_page_has_a_main_heading(client, owner, household):
    page = signed_in(client, owner).get("/").content.decode()
    assert '<h1 class="visually-hidden">Your households</h1>' in page


# --- Passwords --------------------------------------------------------------------------------------------


def test_change_password(client, owner):
    client = signed_in(client, owner)
    url = reverse("accounts:password-change")
    assert client.get(url).status_code == 200

    too_short = client.post(
        url, {"old_password": DEFAULT_PASSWORD, "new_password1": "abc", "new_password2": "abc"}
    )
    assert too_short.status_code == 200
    assert too_short.context["form"].errors["new_password2"] == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
    ]

    response = client.post(
        url,
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-much-longer-one",
            "new_password2": "a-much-longer-one",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password-change-done")
    owner.refresh_from_db()
    assert owner.check_password("a-much-longer-one")
    # Still signed in on this browser.
    assert client.get("/").status_code == 200


def test_reset_password_by_email(client, owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("accounts:password-reset"), {"email": owner.email})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password-reset-sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Choose a new homelog password"
    assert message.to == [owner.email]
    link = re.search(r"http://testserver(/account/password-reset/\S+/)", message.body).group(1)

    # Django swaps the token for a session key on the first visit, so the token never sits in a Referer.
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "fresh-and-long", "new_password2": "fresh-and-long"},
    )

    assert done.status_code == 302
    assert done.url == reverse("accounts:password-reset-complete")
    owner.refresh_from_db()
    assert owner.check_password("fresh-and-long")
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, settings, db):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("accounts:password-reset-sent")
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("email_url", "backend"),
    [
        (None, "django.core.mail.backends.console.EmailBackend console"),
        (
            "smtp+tls://mailer:secret@mail.example.com:587",
            "django.core.mail.backends.smtp.EmailBackend mail.example.com",
        ),
    ],
)
def test_password_mail_goes_to_the_console_unless_a_mail_server_is_set(email_url, backend):
    # The test runner swaps in its own mail backend, so read the settings in a fresh process.
    env = {key: value for key, value in os.environ.items() if key != "EMAIL_URL"}
    if email_url:
        env["EMAIL_URL"] = email_url
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.EMAIL_BACKEND, settings.EMAIL_HOST or 'console')"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        env=env | {"DJANGO_SETTINGS_MODULE": "homelog.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == backend


# --- Household settings ------------------------------------------------------------------------------------


def settings_url(household):
    return reverse("accounts:household-settings", args=[household.pk])


def test_owners_see_members_and_sources(client, owner, member, viewer, household):
    DataSourceFactory(household=household, name="Gas meter", price_per_unit="1.150000")

    response = signed_in(client, owner).get(settings_url(household))

    assert response.status_code == 200
    html = response.content.decode()
    for person in (owner, member, viewer):
        assert person.email in html
    assert "Gas meter" in html
    assert '<td class="num">1.15</td>' in html
    assert [m.user for m, _ in response.context["members"]] == sorted(
        [owner, member, viewer], key=lambda u: u.email
    )


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_other_roles_get_403_and_outsiders_404(client, household, outsider, role, request):
    user = request.getfixturevalue(role)
    assert signed_in(client, user).get(settings_url(household)).status_code == 403
    assert signed_in(client, outsider).get(settings_url(household)).status_code == 404


def test_rename_and_move_time_zone(client, owner, household):
    response = signed_in(client, owner).post(
        settings_url(household), {"name": "Flat", "timezone": "Europe/Lisbon"}
    )
    assert response.status_code == 302
    household.refresh_from_db()
    assert (household.name, household.timezone) == ("Flat", "Europe/Lisbon")


def test_an_unknown_time_zone_is_refused(client, owner, household):
    response = signed_in(client, owner).post(
        settings_url(household), {"name": "Flat", "timezone": "Mars/Olympus"}
    )
    assert response.status_code == 400
    assert response.context["household_form"].errors == {
        "timezone": ["Select a valid choice. Mars/Olympus is not one of the available choices."]
    }


def test_change_a_role(client, owner, member, household):
    membership = Membership.objects.get(user=member)
    response = signed_in(client, owner).post(
        reverse("accounts:member-role", args=[household.pk, membership.pk]),
        {f"m{membership.pk}-role": "owner"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_the_last_owner_cannot_step_down_or_leave(client, owner, household):
    membership = Membership.objects.get(user=owner)
    client = signed_in(client, owner)

    demote = client.post(
        reverse("accounts:member-role", args=[household.pk, membership.pk]),
        {f"m{membership.pk}-role": "member"},
    )
    assert demote.status_code == 400
    assert "A household must keep at least one owner." in demote.content.decode()

    remove = client.post(reverse("accounts:member-remove", args=[household.pk, membership.pk]), follow=True)
    assert [str(m) for m in remove.context["messages"]] == ["A household must keep at least one owner."]

    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_remove_a_member(client, owner, member, household):
    membership = Membership.objects.get(user=member)
    response = signed_in(client, owner).post(
        reverse("accounts:member-remove", args=[household.pk, membership.pk])
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_membership_changes_need_an_owner_of_that_household(client, member, outsider, owner, household):
    target = Membership.objects.get(user=owner)
    urls = [
        (reverse("accounts:member-add", args=[household.pk]), {"email": outsider.email, "role": "owner"}),
        (reverse("accounts:member-role", args=[household.pk, target.pk]), {f"m{target.pk}-role": "viewer"}),
        (reverse("accounts:member-remove", args=[household.pk, target.pk]), {}),
    ]
    for user, status in ((member, 403), (outsider, 404)):
        client = signed_in(client, user)
        for url, data in urls:
            assert client.post(url, data).status_code == status
    target.refresh_from_db()
    assert target.role == Role.OWNER
    assert Membership.objects.filter(household=household).count() == 2


def test_a_membership_of_another_household_is_404_even_for_an_owner(client, owner, household, outsider):
    theirs = Membership.objects.get(user=outsider)
    response = signed_in(client, owner).post(
        reverse("accounts:member-remove", args=[household.pk, theirs.pk])
    )
    assert response.status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_settings_take_the_same_queries_for_2_and_40_members_and_sources(client, owner, household):
    signed_in(client, owner)

    def grow(n):
        for _ in range(n):
            MembershipFactory(household=household)
            DataSourceFactory(household=household)
            InvitationFactory(household=household)

    assert_constant_queries(client, settings_url(household), grow, small=2, large=40)
    assert Household.objects.get().memberships.count() == 41


# The limit's windows are fixed minutes: the test stays inside one, wherever the clock is when it runs.
@time_machine.travel("2026-01-05 12:00:10+00:00", tick=False)
def test_failed_sign_ins_are_limited_like_api_logins(client, owner, settings):
    from django.core.cache import cache

    cache.clear()
    settings.LOGIN_FAILURE_RATE = "3/min"
    for _ in range(3):
        assert (
            "correct email address"
            in client.post(SIGN_IN, {"username": owner.email, "password": "x"}).content.decode()
        )

    # Even the right password waits until the minute is over.
    response = client.post(SIGN_IN, {"username": owner.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert re.fullmatch(r"Too many failed sign-ins\. Try again in \d+ seconds\.", error)
    assert client.get("/").status_code == 302
    cache.clear()


def test_a_new_password_ends_the_api_sessions_opened_with_the_old_one(client, owner):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(owner)
    client = signed_in(client, owner)
    client.post(
        reverse("accounts:password-change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-much-longer-one",
            "new_password2": "a-much-longer-one",
        },
    )
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
