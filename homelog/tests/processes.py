"""Run homelog's own commands in a separate process with an environment of the test's choosing, as
production would start them: the settings module reads the environment only once, at start-up."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

# Variables a developer's shell (or the test run itself) may have set that production would not.
_DEVELOPMENT_ONLY = ("DEBUG", "HTTPS", "ALLOWED_HOSTS", "REDIS_URL", "STATIC_ROOT", "DATABASE_POOL")


def production_environment(**overrides):
    env = {name: value for name, value in os.environ.items() if name not in _DEVELOPMENT_ONLY}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="homelog.example.org",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return env


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def django_python(code, env):
    """Run `code` after django.setup() with the given environment; return what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        cwd=REPOSITORY,
        env={**env, "DJANGO_SETTINGS_MODULE": "homelog.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
