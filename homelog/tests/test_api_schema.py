import re

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    with django_db_blocker.unblock():
        # --fail-on-warn: a view whose shapes drf-spectacular has to guess fails the suite.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_is_valid_openapi_3(schema_file):
    assert schema_file["openapi"].startswith("3.")
    validate(schema_file)


def test_schema_documents_bearer_and_password_flow(schema_file):
    schemes = schema_file["components"]["securitySchemes"]
    assert schemes["jwtAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["oauth2"]["flows"]["password"]["tokenUrl"] == "/api/auth/login"


def test_schema_documents_errors_and_request_shapes(schema_file):
    create = schema_file["paths"]["/api/sources/{source_id}/readings"]["post"]
    assert sorted(create["responses"]) == ["200", "201", "400", "401", "403", "404", "409", "413", "415"]
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert sorted(create["requestBody"]["content"]) == ["application/json"]
    login = schema_file["paths"]["/api/auth/login"]["post"]
    assert sorted(login["requestBody"]["content"]) == [
        "application/json",
        "application/x-www-form-urlencoded",
    ]
    assert sorted(login["responses"]) == ["200", "400", "401", "413", "415", "429", "503"]
    # A wrong current password counts as a failed login, so a password or email change may be limited too.
    password = schema_file["paths"]["/api/auth/password"]
    assert sorted(password["put"]["responses"]) == ["204", "400", "401", "403", "413", "415", "429", "503"]
    assert sorted(password["post"]["responses"]) == ["204", "400", "401", "403", "413", "415", "429", "503"]
    me = schema_file["paths"]["/api/users/me"]["patch"]
    assert "429" in me["responses"]


def test_docs_are_served_from_the_installed_package_without_inline_code(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)
    # The Content-Security-Policy allows scripts and styles from homelog only: none may be inline.
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert len(re.findall(r"<script src=\"[^\"]+\"></script>", page)) == page.count("<script") == 3
    assert "<style" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/schema"' in script.content.decode()
    assert client.get("/api/schema/").status_code == 200


ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_authenticated_operation_documents_401_and_403_in_the_error_shape(schema_file):
    checked = 0
    for path, method, operation in operations(schema_file):
        if {} in operation.get("security", [{}]):
            continue
        checked += 1
        for status in ("401", "403"):
            assert operation["responses"][status]["content"] == ERROR_CONTENT, (method, path, status)
        if "{" in path:
            assert operation["responses"]["404"]["content"] == ERROR_CONTENT, (method, path)
    assert checked > 30


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/users", "get"),  # non-staff users
        ("/api/sources/{source_id}/readings", "get"),  # a device token reads nothing
        ("/api/sources/{source_id}/tokens", "get"),  # members do not manage tokens
    ],
)
def test_reads_that_can_be_forbidden_document_403(schema_file, path, method):
    assert schema_file["paths"][path][method]["responses"]["403"]["content"] == ERROR_CONTENT


def test_every_body_can_be_too_large_and_login_can_be_throttled(schema_file):
    for path, method, operation in operations(schema_file):
        if "requestBody" in operation:
            assert operation["responses"]["413"]["content"] == ERROR_CONTENT, (method, path)
    bulk = schema_file["paths"]["/api/sources/{source_id}/readings/bulk"]["post"]["responses"]
    assert bulk["413"]["description"] == "The body is larger than the server accepts."
    login = schema_file["paths"]["/api/auth/login"]["post"]["responses"]
    assert login["429"]["content"] == ERROR_CONTENT


def test_descriptions_are_written_for_api_users_not_from_docstrings(schema_file):
    text = yaml.safe_dump(schema_file)
    for internal in ("ModelSerializer", "context[", "CSRF", "once per class", "Views that exchange"):
        assert internal not in text
    reading = schema_file["components"]["schemas"]["ReadingRequest"]
    assert "description" not in reading
    assert reading["properties"]["timestamp"]["description"] == (
        "ISO 8601; without an offset, in the household's time zone. Left out on creation: now."
    )


def test_a_bulk_400_is_the_bulk_result_or_any_other_error(schema_file):
    bulk = schema_file["paths"]["/api/sources/{source_id}/readings/bulk"]["post"]["responses"]["400"]
    assert bulk["content"]["application/json"]["schema"] == {
        "anyOf": [{"$ref": "#/components/schemas/BulkResult"}, {"$ref": "#/components/schemas/Error"}]
    }
