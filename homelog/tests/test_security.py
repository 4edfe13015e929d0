import re

from homelog.tests.processes import manage, production_environment


def warning_ids(output):
    return sorted(set(re.findall(r"\((security\.\w+)\)", output)))


def test_deploy_check_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_names_what_plain_http_gives_up():
    result = manage("check", "--deploy", env=production_environment(HTTPS="off"))
    assert warning_ids(result.stdout + result.stderr) == [
        "security.W004",  # no HSTS
        "security.W008",  # no redirect to HTTPS
        "security.W012",  # session cookie not secure
        "security.W016",  # CSRF cookie not secure
    ]


def test_pages_carry_a_policy_that_allows_only_homelogs_own_code(client, db):
    response = client.get("/admin/login/")
    directives = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
