"""Error answers in the OpenAPI schema: every operation lists the errors it can give, in one shape."""

import copy

from drf_spectacular.views import SpectacularAPIView

from homelog.api.renderers import ORJSONRenderer

ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "code": {"type": "string", "description": "What went wrong, for a program."},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Invalid input only: the messages of each field.",
        },
    },
    "required": ["detail", "code"],
}
ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
ERROR_CONTENT = {"application/json": {"schema": ERROR_SCHEMA}}

# Operations that check a password; a wrong one counts as a failed login, so these share the login limit.
PASSWORD_CHECKING_OPERATIONS = {
    "auth_login",
    "auth_password",
    "auth_password_form",
    "users_me_partial_update",
}

# Operations whose rows are unique in the database: a clash is 409.
CONFLICT_OPERATIONS = {
    "users_create",
    "users_me_partial_update",
    "households_members_create",
    "households_members_update",
    "households_members_partial_update",
    "households_members_destroy",
    "sources_readings_create",
    "sources_readings_update",
    "sources_readings_partial_update",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook; also writes paths without the optional trailing slash."""
    result["paths"] = {path.rstrip("/"): operations for path, operations in result["paths"].items()}
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR
    # The interactive docs' Authorize button logs in through the OAuth2 password grant.
    components.setdefault("securitySchemes", {})["oauth2"] = {
        "type": "oauth2",
        "flows": {
            "password": {"tokenUrl": "/api/auth/login", "refreshUrl": "/api/auth/refresh", "scopes": {}}
        },
    }
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]

            def add(status, description, responses=responses):
                # A view may document the status itself, with a description or a body of its own (the bulk
                # result); the error shape is still what the exception handler answers, e.g. a parse error.
                response = responses.setdefault(str(status), {"description": description})
                content = response.setdefault("content", copy.deepcopy(ERROR_CONTENT))
                for media in content.values():
                    if media.get("schema", ERROR_SCHEMA) != ERROR_SCHEMA:
                        media["schema"] = {"anyOf": [media["schema"], ERROR_SCHEMA]}

            security = operation.get("security", [])
            if {"jwtAuth": []} in security:
                security.append({"oauth2": []})
            authenticated = bool(security) and {} not in security
            parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
            if method in {"post", "put", "patch"} or parameters & {"limit", "start", "household"}:
                add(400, "Invalid input or query parameters; `errors` gives each field's messages.")
            if authenticated or path.startswith("/api/auth/"):
                add(
                    401,
                    "Not authenticated, or the token is invalid, expired or revoked "
                    "(`WWW-Authenticate: Bearer`).",
                )
            if authenticated:
                add(
                    403,
                    "The caller may not do this: their role in the household does not allow it (a viewer "
                    "writing, a member managing device tokens, a user who is not staff listing users), or "
                    "a device token asked for more than adding readings to its source.",
                )
            if "{" in path:
                add(404, "No such object in the caller's households.")
            if operation.get("operationId") in CONFLICT_OPERATIONS:
                add(409, "Clashes with what is stored (a duplicate, or the last owner).")
            if operation.get("requestBody"):
                add(413, "The body is larger than the server accepts.")
                add(415, "The body's content type is not accepted (JSON, or form-encoded where listed).")
            if operation.get("operationId") in PASSWORD_CHECKING_OPERATIONS:
                add(429, "Too many failed logins for this email or address; see Retry-After.")
            if operation.get("operationId") in PASSWORD_CHECKING_OPERATIONS | {"users_create"}:
                add(503, "Too many passwords are being checked on the server at once; see Retry-After.")
    return result


class SchemaView(SpectacularAPIView):
    """The schema, in YAML or JSON as asked; its errors (a method not allowed, say) in the API's JSON shape,
    whichever form of the schema the client accepts."""

    def handle_exception(self, exc):
        renderer = ORJSONRenderer()
        self.request.accepted_renderer, self.request.accepted_media_type = renderer, renderer.media_type
        return super().handle_exception(exc)
