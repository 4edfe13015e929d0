"""Request bodies sent with Transfer-Encoding: chunked (no Content-Length), as gunicorn serves them: read
whole when within the route's limit, refused with 413 past it after reading no more than the limit."""

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection

from homelog.tests.conftest import free_port
from homelog.tests.processes import REPOSITORY, django_python, manage, production_environment

INGEST_LIMIT = 100_000
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE, the limit of every other route.
OTHER_LIMIT = 2_621_440

SEED = """
from rest_framework_simplejwt.tokens import AccessToken
from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from sources.tests.factories import DataSourceFactory
source = DataSourceFactory()
owner = MembershipFactory(household=source.household, role=Role.OWNER).user
print(source.pk, AccessToken.for_user(owner))
"""


@pytest.fixture
def database_url(tmp_path):
    """The database the server uses: on PostgreSQL the test database, on SQLite a file of its own (the test
    database lives in this process's memory)."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        return (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    for command in (["migrate", "--noinput"], ["createcachetable"]):
        result = manage(*command, env=production_environment(DATABASE_URL=url))
        assert result.returncode == 0, result.stderr
    return url


@contextmanager
def gunicorn(database_url, tmp_path, threads):
    port = free_port()
    env = production_environment(
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS="off",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS=threads,
        INGEST_MAX_BODY_BYTES=str(INGEST_LIMIT),
        STATIC_ROOT=str(tmp_path),
    )
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=REPOSITORY,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.05)
        yield port, env
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def send_chunked(port, path, chunks, headers=()):
    """POST `chunks` (an iterable of bytes) chunked; (status, body, bytes of body sent). The answer is read
    while the body is still being sent, as a server may answer, and stop reading, before the end."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    answer = bytearray()

    def read():
        try:
            while data := sock.recv(65536):
                answer.extend(data)
        except OSError:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked", "Connection: close"]
    head += [f"{name}: {value}" for name, value in dict(headers).items()]
    sent = 0
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for chunk in chunks:
            if answer:
                break
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        else:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server stopped reading and closed: its answer is what counts
    reader.join(timeout=20)
    sock.close()
    head, _, body = bytes(answer).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return status, body, sent


def _unchunk(data):
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2 :]


def pieces(data, size):
    return [data[start : start + size] for start in range(0, len(data), size)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threads", ["1", "2"], ids=["sync-workers", "threaded-workers"])
def test_chunked_bodies_are_read_and_too_large_ones_refused(database_url, tmp_path, threads):
    with gunicorn(database_url, tmp_path, threads) as (port, env):
        source_pk, token = django_python(SEED, env).split()
        bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        reading = {"timestamp": "2026-03-01T12:00:00Z", "values": {"energy": 1234.5}}
        body = json.dumps(reading).encode()
        status, answer, _ = send_chunked(port, f"/api/sources/{source_pk}/readings", pieces(body, 7), bearer)
        assert status == 201, answer
        assert json.loads(answer)["values"] == {"energy": 1234.5}

        batch = [
            {"timestamp": f"2026-03-02T{hour:02}:00:00Z", "values": {"energy": 1300 + hour}}
            for hour in range(24)
        ]
        body = json.dumps(batch).encode()
        path = f"/api/sources/{source_pk}/readings/bulk"
        status, answer, _ = send_chunked(port, path, pieces(body, 100), bearer)
        assert (status, json.loads(answer)) == (
            200,
            {"created": 24, "existing": 0, "failed": 0, "errors": {}},
        )

        # One byte past the limit, and a body far past it: refused having read about the limit.
        too_large = {
            "detail": f"The body is larger than the {INGEST_LIMIT} bytes accepted here.",
            "code": "too_large",
        }
        status, answer, _ = send_chunked(port, path, pieces(b" " * (INGEST_LIMIT + 1), 4096), bearer)
        assert (status, json.loads(answer)) == (413, too_large)
        status, answer, sent = send_chunked(port, path, (b" " * 65536 for _ in range(3200)), bearer)
        assert (status, json.loads(answer)) == (413, too_large)
        assert sent < 50_000_000  # of 200 MB: the server stopped reading

        # Exactly the limit is read (and then judged as JSON).
        status, answer, _ = send_chunked(port, path, pieces(b" " * (INGEST_LIMIT - 2) + b"{}", 4096), bearer)
        assert status == 400
        assert json.loads(answer)["code"] == "invalid"

        # Every other route: Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
        status, answer, _ = send_chunked(
            port, "/api/households", pieces(b" " * (OTHER_LIMIT + 1), 65536), bearer
        )
        assert (status, json.loads(answer)) == (
            413,
            {
                "detail": f"The body is larger than the {OTHER_LIMIT} bytes accepted here.",
                "code": "too_large",
            },
        )
        status, answer, _ = send_chunked(
            port, "/api/households", [b'{"name": "Cabin", "timezone": "UTC"}'], bearer
        )
        assert status == 201, answer
