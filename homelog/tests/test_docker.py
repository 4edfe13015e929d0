"""No Docker engine runs where the tests run: what can be checked without one is that the compose file parses
into the set-up we mean, and that it and the image speak the settings' language. The image's command is
exercised for real by test_production_server.py."""

import re

import pytest
import yaml

from homelog.tests.processes import REPOSITORY


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((REPOSITORY / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile():
    return (REPOSITORY / "Dockerfile").read_text()


def test_compose_runs_the_app_with_postgres_and_redis(compose):
    services = compose["services"]
    assert set(services) == {"db", "redis", "migrate", "app"}
    assert services["app"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "migrate --noinput" in services["migrate"]["command"][-1]
    assert "createcachetable" in services["migrate"]["command"][-1]
    assert {name for name, service in services.items() if "healthcheck" in service} == {"db", "redis"}
    assert services["db"]["volumes"] == [
        "pgdata:/var/lib/postgresql/data",
        "./docker/postgres-init:/docker-entrypoint-initdb.d:ro",
    ]
    assert set(compose["volumes"]) == {"pgdata"}


def test_compose_sets_only_variables_the_settings_read(compose):
    settings_source = (REPOSITORY / "homelog" / "settings.py").read_text()
    gunicorn_source = (REPOSITORY / "gunicorn.conf.py").read_text()
    app = compose["services"]["app"]
    assert app["environment"] == compose["services"]["migrate"]["environment"]
    for name in app["environment"]:
        assert f'"{name}"' in settings_source + gunicorn_source, f"{name} is read by nothing"
    assert app["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_image_runs_gunicorn_as_a_user_with_a_health_check(dockerfile):
    build_stage, final_stage = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    assert build_stage.startswith("python:3.11-slim AS build\n")
    assert final_stage.startswith("python:3.11-slim\n")
    assert re.search(r"^USER homelog$", final_stage, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", final_stage, re.MULTILINE)
    assert final_stage.rstrip().endswith('CMD ["gunicorn", "-c", "gunicorn.conf.py"]')
    assert "collectstatic --noinput" in build_stage
    assert "COPY --from=build /app /app" in final_stage


def test_compose_runs_the_app_as_the_role_the_init_script_makes_not_as_the_superuser(compose):
    db = compose["services"]["db"]["environment"]
    app_database_url = compose["services"]["app"]["environment"]["DATABASE_URL"]
    assert db["POSTGRES_USER"] == "postgres"
    assert (db["HOMELOG_DB_USER"], db["HOMELOG_DB_NAME"]) == ("homelog", "homelog")
    assert app_database_url == "postgres://homelog:${POSTGRES_PASSWORD:-homelog}@db:5432/homelog"
    assert db["HOMELOG_DB_PASSWORD"] == "${POSTGRES_PASSWORD:-homelog}"
    script = REPOSITORY / "docker" / "postgres-init" / "10-homelog-role.sh"
    assert "GRANT SET ON PARAMETER session_replication_role" in script.read_text()
