import pytest


def test_healthz_answers_without_touching_the_database(client):
    # No `db` fixture: any query would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_the_cache(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_probes_answer_any_host_over_plain_http(client, db, settings):
    # Load balancers probe the container's address, over HTTP, with a Host that is not a served name.
    settings.ALLOWED_HOSTS = ["homelog.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/admin/login/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_readyz_is_unavailable_while_the_cache_is_unreachable(client, db, settings, unused_port):
    settings.CACHES = {
        "default": {
            "BACKEND": "homelog.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_port}/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "unreachable"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_only_answer_reads(client, db, path):
    assert client.post(path).status_code == 404
