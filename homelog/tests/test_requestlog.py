import logging
import re

import pytest

from homelog.tests.processes import django_python, production_environment

pytestmark = pytest.mark.urls("homelog.tests.urls_for_tests")

LINE = re.compile(r"^(?P<method>\S+) (?P<path>\S+) (?P<status>\d{3}) \d+\.\dms user=(?P<user>\S+)$")


@pytest.fixture
def request_lines(caplog):
    caplog.set_level(logging.INFO, logger="homelog.requests")

    def lines():
        return [
            LINE.match(record.getMessage()).groupdict()
            for record in caplog.records
            if record.name == "homelog.requests"
        ]

    return lines


def test_one_line_per_request_with_the_user(client, staff_user, request_lines):
    client.force_login(staff_user)
    client.get("/admin/")
    assert request_lines() == [
        {"method": "GET", "path": "/admin/", "status": "200", "user": str(staff_user.pk)}
    ]


def test_anonymous_requests_and_errors_are_logged_too(client, db, request_lines):
    client.raise_request_exception = False
    client.get("/admin/")
    client.get("/api/broken")
    assert request_lines() == [
        {"method": "GET", "path": "/admin/", "status": "302", "user": "-"},
        {"method": "GET", "path": "/api/broken", "status": "500", "user": "-"},
    ]


def test_query_strings_and_url_tokens_stay_out_of_the_log(client, db, request_lines, caplog):
    client.get("/admin/login/?next=/admin/&access_token=s3cr3t-query")
    client.get("/reset/MQ/cfq2hb-0a1b2c3d4e5f60718293a4b5c6d7e8f9/")
    assert [line["path"] for line in request_lines()] == ["/admin/login/", "/reset/MQ/***/"]
    assert "s3cr3t-query" not in caplog.text
    assert "0a1b2c3d4e5f" not in caplog.text


def test_logging_does_not_look_up_a_user_nobody_asked_for(
    client, staff_user, request_lines, django_assert_num_queries
):
    client.force_login(staff_user)
    with django_assert_num_queries(0):
        response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert request_lines() == [{"method": "GET", "path": "/no-such-page/", "status": "404", "user": "-"}]


def test_a_host_homelog_does_not_serve_is_one_line_not_a_traceback(client, db, request_lines, caplog):
    client.get("/admin/", HTTP_HOST="scanner.example.net")
    assert request_lines() == [{"method": "GET", "path": "/admin/", "status": "400", "user": "-"}]
    assert "Traceback" not in caplog.text
    assert [record.name for record in caplog.records] == ["homelog.requests"]


@pytest.mark.parametrize(("log_level", "expected"), [("debug", "10"), ("WARNING", "30"), (None, "20")])
def test_log_level_from_the_environment_in_either_case(log_level, expected):
    # gunicorn.conf.py reads the same variable, and gunicorn's own levels are usually written in lower case.
    env = production_environment()
    env.pop("LOG_LEVEL", None)
    if log_level is not None:
        env["LOG_LEVEL"] = log_level

    assert django_python("import logging; print(logging.getLogger().level)", env) == expected
