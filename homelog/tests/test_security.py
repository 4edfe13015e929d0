import re

import pytest
from csp.constants import NONCE

from homelog.tests.processes import manage, production_environment

SITE_POLICY = {
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
    assert directives(response) == SITE_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def directives(response, header="Content-Security-Policy"):
    return dict(part.split(" ", 1) for part in response[header].split("; "))


def test_api_answers_carry_the_same_policy(client, db):
    assert directives(client.get("/api/sources")) == SITE_POLICY


@pytest.mark.urls("homelog.tests.urls_for_tests")
def test_a_view_may_still_change_its_policy_or_use_a_nonce(client, db, settings):
    assert directives(client.get("/map")) == {
        **SITE_POLICY,
        "img-src": "'self' data: https://tiles.example.org",
    }
    assert "Content-Security-Policy" not in client.get("/exempt")
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**policy_setting(), "script-src": ["'self'", NONCE]}}
    response = client.get("/nonce")
    nonce = re.fullmatch(r"<script nonce=(\S+)></script>", response.content.decode())[1]
    assert directives(response) == {**SITE_POLICY, "script-src": f"'self' 'nonce-{nonce}'"}
    assert directives(client.get("/map"))["script-src"] == "'self'"  # no nonce asked for, none given


def policy_setting():
    from django.conf import settings

    return settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]


def test_a_changed_setting_changes_the_policy(client, db, settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert directives(client.get("/api/sources")) == {"default-src": "'none'"}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"script-src": ["'self'"]}}
    response = client.get("/api/sources")
    assert directives(response, "Content-Security-Policy-Report-Only") == {
        "default-src": "'self'",  # django-csp's default
        "script-src": "'self'",
    }
