"""homelog served as the container serves it: gunicorn with gunicorn.conf.py, DEBUG off, HTTPS on behind a
proxy, PostgreSQL, Redis and collected static files, over real HTTP."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, UserFactory
from homelog.tests.conftest import free_port
from homelog.tests.processes import REPOSITORY, manage, production_environment
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the production server is tested against PostgreSQL"
)

REDIS_URL = "redis://127.0.0.1:6379/6"
PASSWORD = "a long production password"


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    result = manage("collectstatic", "--noinput", env=production_environment(STATIC_ROOT=str(root)))
    assert result.returncode == 0, result.stderr
    return root


def _database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    """A running gunicorn, and a client that talks to it the way a TLS-terminating proxy would."""

    def __init__(self, process, port, log_path):
        self.process, self.port, self.log_path = process, port, log_path
        self.cookies = {}

    def log(self):
        return self.log_path.read_text()

    def request(self, method, path, body=None, headers=(), proxied=True, timeout=15):
        headers = dict(headers)
        if proxied:
            headers.setdefault("X-Forwarded-Proto", "https")
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response, content

    def get_json(self, path, **kwargs):
        response, content = self.request("GET", path, **kwargs)
        return response.status, json.loads(content)

    def send_json(self, method, path, data, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response, content = self.request(method, path, body=json.dumps(data), headers=headers)
        return response.status, json.loads(content)

    def log_in_to_admin(self, email, password):
        _, page = self.request("GET", "/admin/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": email, "password": password, "next": "/admin/"}
        )
        response, _ = self.request(
            "POST",
            "/admin/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"https://127.0.0.1:{self.port}",
            },
        )
        return response


@contextmanager
def running_server(static_root, tmp_path, **environment):
    port = free_port()
    log_path = tmp_path / f"gunicorn-{port}.log"
    env = production_environment(
        DATABASE_URL=_database_url(),
        REDIS_URL=REDIS_URL,
        # Keys of its own: user ids repeat from one test database to the next, and other runs share Redis.
        CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        STATIC_ROOT=str(static_root),
        ALLOWED_HOSTS="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        # gunicorn.conf.py's own worker kind unless a test asks for another.
        **{"GUNICORN_THREADS": "", **environment},
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=REPOSITORY,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # A session of its own, so that killing it also stops any worker the master leaves behind.
            start_new_session=True,
        )
    server = Server(process, port, log_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, f"gunicorn exited:\n{server.log()}"
            try:
                if server.request("GET", "/healthz", proxied=False, timeout=2)[0].status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{server.log()}"
            time.sleep(0.05)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def admin(transactional_db):
    # The server checks passwords with the production hasher, not the tests' fast one.
    user = UserFactory(email="admin@example.com", staff=True)
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def pbkdf2_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


@contextmanager
def database_refusing_connections():
    """Cut every connection to the test database but this process's own, and refuse new ones, as a database
    that went away would; let them in again on leaving."""
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own_pid,) = cursor.fetchone()
    admin_db = {**connection.get_connection_params(), "dbname": "postgres"}
    admin_db.pop("cursor_factory", None)
    with psycopg.connect(**admin_db, autocommit=True) as control:
        control.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            control.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                [name, own_pid],
            )
            yield
        finally:
            control.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def test_production_server_serves_probes_pages_static_files_and_logs(
    static_root, tmp_path, pbkdf2_hasher, admin
):
    with running_server(static_root, tmp_path) as server:
        assert server.get_json("/healthz", proxied=False) == (200, {"status": "ok"})
        assert server.get_json("/readyz", proxied=False) == (
            200,
            {"status": "ok", "database": "ok", "cache": "ok"},
        )

        # Plain HTTP is sent to HTTPS; through the proxy the page is served with its security headers.
        response, _ = server.request("GET", "/admin/login/", proxied=False)
        assert (response.status, response.headers["Location"]) == (
            301,
            f"https://127.0.0.1:{server.port}/admin/login/",
        )
        response = server.log_in_to_admin(admin.email, PASSWORD)
        assert (response.status, response.headers["Location"]) == (302, "/admin/")
        response, page = server.request("GET", "/admin/")
        assert response.status == 200
        assert b"Site administration" in page
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "Secure" in server.request("GET", "/admin/logout/")[0].headers.get("Set-Cookie", "Secure")

        # Static files under hashed names, compressed, cached for ever.
        stylesheet = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page).group(1).decode()
        response, _ = server.request("GET", stylesheet, headers={"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Cache-Control"] == "max-age=315360000, public, immutable"

        # No internals on an error page.
        response, page = server.request("GET", "/no-such-page/")
        assert response.status == 404
        assert b"Traceback" not in page and b"urlpatterns" not in page

    log = server.log()
    assert re.search(rf"GET /admin/ 200 \d+\.\dms user={admin.pk}\n", log)
    assert re.search(r"GET /healthz 200 \d+\.\dms user=-\n", log)
    assert PASSWORD not in log
    assert server.cookies["sessionid"] not in log


@pytest.mark.parametrize(
    ("threads", "connection"),
    [("", "close"), ("2", "keep-alive")],
    ids=["sync-workers-by-default", "threaded-workers"],
)
def test_production_server_logs_in_and_answers_the_api(
    static_root, tmp_path, pbkdf2_hasher, admin, threads, connection
):
    source = DataSourceFactory(name="Electricity meter")
    MembershipFactory(user=admin, household=source.household, role=Role.OWNER)

    with running_server(static_root, tmp_path, GUNICORN_THREADS=threads) as server:
        status, tokens = server.send_json(
            "POST", "/api/auth/login", {"username": admin.email, "password": PASSWORD}
        )
        assert (status, tokens["token_type"]) == (200, "bearer")
        token = tokens["access_token"]

        status, created = server.send_json(
            "POST",
            f"/api/sources/{source.pk}/readings",
            {"timestamp": "2026-03-01T12:00:00Z", "values": {"energy": 1234.5}},
            token=token,
        )
        assert status == 201
        response, content = server.request(
            "GET", f"/api/sources/{source.pk}/readings", headers={"Authorization": f"Bearer {token}"}
        )
        assert (response.status, response.getheader("Connection")) == (200, connection)
        assert json.loads(content) == [
            {
                "id": created["id"],
                "data_source_id": source.pk,
                "timestamp": "2026-03-01T12:00:00Z",
                "values": {"energy": 1234.5},
                "created_by_id": admin.pk,
                "created_at": created["created_at"],
            }
        ]
        assert server.get_json("/api/sources")[0] == 401

        # Each request on a connection of its own, so that both workers take the user and keep a copy; a
        # password change made through one of them refuses the old token in both at once.
        bearer = {"Authorization": f"Bearer {token}"}

        def validations():
            return {server.request("GET", "/api/auth/validate", headers=bearer)[0].status for _ in range(8)}

        assert validations() == {200}
        response, _ = server.request(
            "PUT",
            "/api/auth/password",
            body=json.dumps({"password": "another long production password", "current_password": PASSWORD}),
            headers={**bearer, "Content-Type": "application/json"},
        )
        assert response.status == 204
        assert validations() == {401}

    log = server.log()
    assert re.search(rf"POST /api/sources/{source.pk}/readings 201 \d+\.\dms user={admin.pk}\n", log)
    assert re.search(r"POST /api/auth/login 200 \d+\.\dms user=-\n", log)
    assert re.search(r"GET /api/sources 401 \d+\.\dms user=-\n", log)
    assert token not in log
    assert tokens["refresh_token"] not in log
    assert PASSWORD not in log


@pytest.mark.parametrize("pool", ["off", "on"], ids=["persistent-connections", "connection-pool"])
def test_a_database_outage_is_a_503_and_homelog_recovers_by_itself(
    static_root, tmp_path, pbkdf2_hasher, admin, pool
):
    # A short wait for a connection keeps the test quick: a pool waits that long before giving up.
    with running_server(static_root, tmp_path, DATABASE_POOL=pool, DATABASE_CONNECT_TIMEOUT="1") as server:
        assert server.log_in_to_admin(admin.email, PASSWORD).status == 302
        assert server.request("GET", "/admin/")[0].status == 200

        with database_refusing_connections():
            assert server.get_json("/readyz") == (
                503,
                {"status": "unavailable", "database": "unreachable", "cache": "ok"},
            )
            assert server.get_json("/admin/") == (
                503,
                {"detail": "The database is unavailable at the moment; please try again shortly."},
            )
            assert server.get_json("/healthz") == (200, {"status": "ok"})

        # Without a restart. Kept connections are dropped and made again at the first request after the
        # outage, so once the database answers, every request does. Each worker process's pool reconnects
        # in the background, after a back-off that grows with the outage, so there one worker may answer a
        # moment before another: recovered is when a round of requests, spread over the workers and their
        # threads, all succeed.
        deadline = time.monotonic() + 15
        while server.get_json("/readyz")[0] != 200:
            assert time.monotonic() < deadline, "homelog did not recover"
            time.sleep(0.2)
        while (statuses := [server.request("GET", "/admin/")[0].status for _ in range(8)]) != [200] * 8:
            assert pool == "on", f"a kept connection was used after the outage: {statuses}"
            assert time.monotonic() < deadline, f"homelog did not recover: {statuses}"
            time.sleep(0.2)
