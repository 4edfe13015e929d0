import pytest
import time_machine
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from homelog.api.fixtures import bearer_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

NEW_PASSWORD = "a-much-better-passphrase-2025"


def login(email, password=DEFAULT_PASSWORD, client=None, **extra):
    return (client or APIClient()).post("/api/auth/login", {"username": email, "password": password}, **extra)


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_login_with_json_gives_a_token_pair_that_authenticates(owner):
    response = login(owner.email)
    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["access_token", "refresh_token", "token_type"]
    assert body["token_type"] == "bearer"
    validate = bearer(body["access_token"]).get("/api/auth/validate")
    assert validate.status_code == 200
    assert validate.json() == {"id": owner.pk, "email": owner.email}
    owner.refresh_from_db()
    assert owner.last_login is not None


def test_login_form_encoded_as_the_oauth2_password_grant(owner):
    response = login(owner.email.upper(), format="multipart")
    assert response.status_code == 415
    response = APIClient().post(
        "/api/auth/login",
        f"grant_type=password&username={owner.email}&password={DEFAULT_PASSWORD}&scope=",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


def test_login_ignores_the_case_of_the_email(owner):
    assert login(f"  {owner.email.upper()} ").status_code == 200


@pytest.mark.parametrize("who", ["wrong password", "unknown email", "inactive user"])
def test_bad_credentials_are_401(owner, who):
    email, password = owner.email, DEFAULT_PASSWORD
    if who == "wrong password":
        password = "not-the-password"
    elif who == "unknown email":
        email = "nobody@example.com"
    else:
        owner.is_active = False
        owner.save()
    response = login(email, password)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"detail": "Incorrect email or password.", "code": "invalid_credentials"}


def test_login_needs_both_fields():
    response = APIClient().post("/api/auth/login", {"username": "a@example.com"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"password": ["This field is required."]}


def test_refresh_rotates_the_refresh_token(owner):
    first = login(owner.email).json()
    response = APIClient().post("/api/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert bearer(second["access_token"]).get("/api/auth/validate").status_code == 200
    reused = APIClient().post("/api/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json() == {
        "detail": "The refresh token is not valid: Token is blacklisted",
        "code": "token_not_valid",
    }
    # The reuse revoked the family: the successor too (test_a_rotated_refresh_token_sent_again_...).
    assert refresh(second["refresh_token"]).status_code == 401


def test_an_access_token_is_not_a_refresh_token(owner):
    tokens = login(owner.email).json()
    response = APIClient().post("/api/auth/refresh", {"refresh_token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json()["detail"] == "The refresh token is not valid: Token has wrong type"


def test_logout_revokes_the_refresh_token(owner):
    tokens = login(owner.email).json()
    response = APIClient().post("/api/auth/logout", {"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert BlacklistedToken.objects.count() == 1
    assert (
        APIClient().post("/api/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    )


@pytest.mark.parametrize("method", ["get", "put"])
def test_validate_without_or_with_a_broken_token_is_401(method):
    anonymous = getattr(APIClient(), method)("/api/auth/validate")
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    broken = getattr(bearer("not.a.token"), method)("/api/auth/validate")
    assert broken.status_code == 401
    assert broken.json() == {"detail": "Given token not valid for any token type", "code": "token_not_valid"}


def test_password_change_revokes_every_earlier_token(owner):
    before = login(owner.email).json()
    other_device = login(owner.email).json()
    client = bearer(before["access_token"])
    response = client.put(
        "/api/auth/password", {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 204
    for tokens in (before, other_device):
        revoked = bearer(tokens["access_token"]).get("/api/auth/validate")
        assert revoked.status_code == 401
        assert revoked.json() == {
            "detail": "The user's password has been changed.",
            "code": "password_changed",
        }
        refresh = APIClient().post("/api/auth/refresh", {"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 401
    assert login(owner.email).status_code == 401
    after = login(owner.email, NEW_PASSWORD)
    assert after.status_code == 200
    assert bearer(after.json()["access_token"]).get("/api/auth/validate").status_code == 200


def test_password_change_form_encoded_with_post(owner):
    client = bearer_client(owner)
    response = client.post(
        "/api/auth/password",
        f"password={NEW_PASSWORD}&current_password={DEFAULT_PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 204
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_weak_passwords_are_refused_by_djangos_validators(owner):
    response = bearer_client(owner).put(
        "/api/auth/password", {"password": "12345678", "current_password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "password": ["This password is too common.", "This password is entirely numeric."]
    }
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD)


def test_password_change_needs_authentication():
    assert APIClient().put("/api/auth/password", {"password": NEW_PASSWORD}).status_code == 401


def test_failed_logins_are_limited_per_email(owner):
    for attempt in range(5):
        assert login(owner.email, "wrong", REMOTE_ADDR=f"10.0.0.{attempt}").status_code == 401
    blocked = login(owner.email, REMOTE_ADDR="10.0.0.99")  # even with the right password, from elsewhere
    assert blocked.status_code == 429
    assert blocked.json()["detail"].startswith("Too many failed logins. Expected available in ")
    assert blocked.json()["code"] == "throttled"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert login(UserFactory().email, REMOTE_ADDR="10.0.0.99").status_code == 200


def test_failed_logins_are_limited_per_client_address(owner):
    for attempt in range(5):
        assert login(f"guess{attempt}@example.com", "wrong", REMOTE_ADDR="10.0.0.7").status_code == 401
    assert login(owner.email, REMOTE_ADDR="10.0.0.7").status_code == 429
    assert login(owner.email, REMOTE_ADDR="10.0.0.8").status_code == 200


def test_successful_logins_do_not_count(owner):
    for _ in range(8):
        assert login(owner.email).status_code == 200
    for _ in range(5):
        assert login(owner.email, "wrong").status_code == 401
    assert login(owner.email, "wrong").status_code == 429


def test_the_browser_session_authenticates_with_csrf(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)  # a real Django session, as homelog's pages have
    assert client.get("/api/users/me").json()["email"] == owner.email
    refused = client.patch("/api/users/me", {"display_name": "Changed"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "CSRF Failed: CSRF cookie not set."
    client.get("/admin/login/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert (
        client.patch("/api/users/me", {"display_name": "Changed"}, HTTP_X_CSRFTOKEN=token).status_code == 200
    )


def test_password_change_through_the_session_keeps_that_session(owner):
    client = APIClient()
    client.force_login(owner)
    token_client = bearer_client(owner)
    client.get("/admin/login/")
    response = client.put(
        "/api/auth/password",
        {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 204
    assert client.get("/api/users/me").status_code == 200
    assert token_client.get("/api/users/me").status_code == 401


@pytest.mark.parametrize(
    "user_id", ["abc", "1e3", "", [1], None, {}, 2**64, str(2**64), -(2**63) - 1, True, 1.5]
)
def test_a_signed_token_with_a_malformed_user_id_is_401(owner, user_id):
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(owner)
    token["user_id"] = user_id
    response = bearer(str(token)).get("/api/auth/validate")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Token contained no recognizable user identification",
        "code": "token_not_valid",
    }


def refresh(token):
    return APIClient().post("/api/auth/refresh", {"refresh_token": token})


def test_a_rotated_refresh_token_sent_again_revokes_its_whole_family(owner):
    first = login(owner.email).json()["refresh_token"]
    other_login = login(owner.email).json()["refresh_token"]
    second = refresh(first).json()["refresh_token"]
    reused = refresh(first)
    assert reused.status_code == 401
    assert reused.json() == {
        "detail": "The refresh token is not valid: Token is blacklisted",
        "code": "token_not_valid",
    }
    successor = refresh(second)
    assert successor.status_code == 401
    assert successor.json()["detail"] == "The refresh token is not valid: Token is blacklisted"
    # Another login's tokens are another family.
    assert refresh(other_login).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_of_one_token_rotate_it_once(owner):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; the race needs PostgreSQL's row locks")
    import threading

    for _ in range(3):
        token = login(owner.email).json()["refresh_token"]
        barrier = threading.Barrier(8)
        answers = []

        def send(barrier=barrier, answers=answers, token=token):
            barrier.wait()
            try:
                answers.append(refresh(token))
            finally:
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(a.status_code for a in answers) == [200] + [401] * 7


# The limit's windows are fixed minutes: the test stays inside one, wherever the clock is when it runs.
@time_machine.travel("2026-01-05 12:00:10+00:00", tick=False)
def test_changing_the_password_needs_the_current_one(owner, settings):
    settings.LOGIN_FAILURE_RATE = "2/min"
    client = bearer(login(owner.email).json()["access_token"])
    missing = client.put("/api/auth/password", {"password": NEW_PASSWORD})
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"current_password": ["This field is required."]}
    wrong = client.put("/api/auth/password", {"password": NEW_PASSWORD, "current_password": "nope"})
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {"current_password": ["The current password is not correct."]}
    assert (
        client.put("/api/auth/password", {"password": NEW_PASSWORD, "current_password": "no"}).status_code
        == 400
    )
    over = client.put("/api/auth/password", {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD})
    assert over.status_code == 429
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD)


def test_changing_the_email_needs_the_current_password(owner):
    client = bearer(login(owner.email).json()["access_token"])
    missing = client.patch("/api/users/me", {"email": "new@example.com"})
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"current_password": ["This field is required."]}
    wrong = client.patch("/api/users/me", {"email": "new@example.com", "current_password": "nope"})
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {"current_password": ["The current password is not correct."]}
    right = client.patch("/api/users/me", {"email": "new@example.com", "current_password": DEFAULT_PASSWORD})
    assert right.status_code == 200
    owner.refresh_from_db()
    assert owner.email == "new@example.com"
