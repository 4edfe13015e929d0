"""homelog runs as an ordinary PostgreSQL role that owns its tables: the script the compose set-up runs when
it creates the database makes that role, and the fast import path works for it through one grant."""

import shutil
import subprocess
import uuid

import psycopg
import pytest
from django.db import connection

from homelog.tests.processes import REPOSITORY, django_python, manage, production_environment

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's"),
    pytest.mark.skipif(shutil.which("psql") is None, reason="the set-up script runs psql"),
]

SCRIPT = REPOSITORY / "docker" / "postgres-init" / "10-homelog-role.sh"


@pytest.fixture
def app_role(db):
    settings = connection.settings_dict
    name = f"homelog_role_{uuid.uuid4().hex[:8]}"
    server = {"PGHOST": settings["HOST"] or "127.0.0.1", "PGPORT": str(settings["PORT"] or 5432)}
    superuser = psycopg.connect(
        host=server["PGHOST"], port=server["PGPORT"], user=settings["USER"], dbname="postgres"
    )
    superuser.autocommit = True
    try:
        yield name, server, settings["USER"]
    finally:
        superuser.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if superuser.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone():
            superuser.execute(f'REVOKE SET ON PARAMETER session_replication_role FROM "{name}"')
            superuser.execute(f'DROP ROLE "{name}"')
        superuser.close()


def run_script(name, server, superuser):
    return subprocess.run(
        ["sh", str(SCRIPT)],
        env={
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            **server,
            "POSTGRES_USER": superuser,
            "POSTGRES_DB": "postgres",
            "HOMELOG_DB_USER": name,
            "HOMELOG_DB_NAME": name,
            "HOMELOG_DB_PASSWORD": 'it\'s a "quoted" secret',
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_app_role_owns_its_tables_is_no_superuser_and_takes_the_fast_import_path(app_role):
    name, server, superuser = app_role
    result = run_script(name, server, superuser)
    assert result.returncode == 0, result.stderr

    env = production_environment(
        DATABASE_URL=f"postgres://{name}@{server['PGHOST']}:{server['PGPORT']}/{name}"
    )
    migrated = manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert django_python(PROBE, env) == f"False {name} True"


PROBE = """
from django.db import connection
from readings.services import copy as services
with connection.cursor() as cursor:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    is_superuser = cursor.fetchone()[0]
    cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'readings_reading'")
    owner = cursor.fetchone()[0]
    print(is_superuser, owner, services._may_check_keys_once(cursor))
"""


def test_the_script_refuses_to_run_without_a_password(app_role):
    name, server, superuser = app_role
    result = subprocess.run(
        ["sh", str(SCRIPT)],
        env={"PATH": "/usr/bin:/bin", **server, "POSTGRES_USER": superuser, "HOMELOG_DB_USER": name},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "set HOMELOG_DB_PASSWORD" in result.stderr
