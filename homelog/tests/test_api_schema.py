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
    assert sorted(create["responses"]) == ["201", "400", "401", "403", "404", "409", "415"]
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert sorted(create["requestBody"]["content"]) == ["application/json"]
    login = schema_file["paths"]["/api/auth/login"]["post"]
    assert sorted(login["requestBody"]["content"]) == [
        "application/json",
        "application/x-www-form-urlencoded",
    ]
    assert sorted(login["responses"]) == ["200", "400", "401", "415", "429"]


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
