"""At most PASSWORD_CHECKS_AT_ONCE password hashes run at once on the machine, across processes: a check
that finds every slot taken is refused at once with 503 and Retry-After (API, page and admin sign-in)."""

import json
import subprocess
import sys

import pytest
from django.urls import reverse

from accounts.hashers import BUSY
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from homelog.capacity import machine_slot

pytestmark = pytest.mark.django_db


@pytest.fixture
def capped(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["accounts.hashers.CappedPBKDF2PasswordHasher"]
    settings.PASSWORD_CHECKS_AT_ONCE = 1
    settings.CAPACITY_LOCK_DIR = str(tmp_path)
    # Hashed once here, with the slot free: a quick hash (few iterations) is still this hasher's.
    user = UserFactory(email="kim@example.com", staff=True)
    user.set_password(DEFAULT_PASSWORD)
    user.save(update_fields=["password"])
    assert user.password.startswith("pbkdf2_sha256$")
    return tmp_path


def log_in(client):
    body = {"username": "kim@example.com", "password": DEFAULT_PASSWORD}
    return client.post("/api/auth/login", body, content_type="application/json")


def test_with_every_slot_taken_a_login_is_refused_at_once_and_answered_later(client, capped):
    with machine_slot("password-check", 1, "held by the test"):
        refused = log_in(client)
        page = client.post(
            reverse("accounts:login"), {"username": "kim@example.com", "password": DEFAULT_PASSWORD}
        )
        admin = client.post(
            reverse("admin:login"), {"username": "kim@example.com", "password": DEFAULT_PASSWORD}
        )
    assert refused.status_code == 503
    assert refused["Retry-After"] == "1"
    assert refused.json() == {"detail": BUSY, "code": "busy"}
    assert (page.status_code, admin.status_code) == (503, 503)
    assert BUSY in page.content.decode()
    assert log_in(client).status_code == 200


def test_the_slots_are_shared_by_every_process_of_the_machine(client, capped):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, filelock\n"
            "lock = filelock.FileLock(sys.argv[1])\n"
            "lock.acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            str(capped / "password-check-0.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        assert log_in(client).status_code == 503
    finally:
        holder.kill()
        holder.wait()
    # The operating system released the slot with the process that held it.
    assert log_in(client).status_code == 200


def test_a_storm_is_refused_before_django_while_every_slot_is_taken(capped):
    from homelog.capacity import RefuseWhenBusy

    def django(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"reached Django"]

    application = RefuseWhenBusy(
        django, kind="password-check", slots=1, paths=["/api/auth/login", "/account/sign-in/"], message=BUSY
    )

    def call(method, path):
        answer = {}

        def start_response(status, headers):
            answer.update(status=status, headers=dict(headers))

        body = b"".join(application({"REQUEST_METHOD": method, "PATH_INFO": path}, start_response))
        return answer["status"], answer["headers"], body

    assert call("POST", "/api/auth/login")[0] == "200 OK"
    with machine_slot("password-check", 1, "held by the test"):
        status, headers, body = call("POST", "/api/auth/login/")
        assert (status, headers["Retry-After"]) == ("503 Service Unavailable", "1")
        assert json.loads(body) == {"detail": BUSY, "code": "busy"}
        status, headers, body = call("POST", "/account/sign-in/")
        assert (status, headers["Content-Type"]) == ("503 Service Unavailable", "text/html; charset=utf-8")
        # Only the routes that check a password, and only their POSTs.
        assert call("GET", "/account/sign-in/")[0] == "200 OK"
        assert call("POST", "/api/sources")[0] == "200 OK"
    assert call("POST", "/account/sign-in/")[0] == "200 OK"
