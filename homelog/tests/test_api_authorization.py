"""Who may do what, for every API route: one table, every route by anonymous, outsider, viewer, member, owner.

The table must name every route and method the API serves (checked against the URL configuration), so a new
route cannot be added without deciding, here, who may use it.
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Role
from accounts.tests.factories import DEFAULT_PASSWORD, InvitationFactory, MembershipFactory, UserFactory
from homelog.api import urls as api_urls
from homelog.api.fixtures import bearer_client
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory, DeviceTokenFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

ROLES = ["anonymous", "outsider", "viewer", "member", "owner"]
NEW_PASSWORD = "a-fresh-passphrase-for-2025"
SOURCE_BODY = {"name": "Gas", "type": "gas", "household": "{household}", "metrics": {"volume": "m³"}}
READING_BODY = {"timestamp": "2025-06-01T00:00:00Z", "values": {"energy": 42}}

# (URL name, method, path, body), then the status for each of ROLES.
MATRIX = [
    (
        "auth-login",
        "post",
        "/api/auth/login",
        {"username": "{owner_email}", "password": DEFAULT_PASSWORD},
        200,
        200,
        200,
        200,
        200,
    ),
    (
        "auth-refresh",
        "post",
        "/api/auth/refresh",
        {"refresh_token": "{refresh_token}"},
        200,
        200,
        200,
        200,
        200,
    ),
    (
        "auth-logout",
        "post",
        "/api/auth/logout",
        {"refresh_token": "{refresh_token}"},
        204,
        204,
        204,
        204,
        204,
    ),
    ("auth-validate", "get", "/api/auth/validate", None, 401, 200, 200, 200, 200),
    ("auth-validate", "put", "/api/auth/validate", None, 401, 200, 200, 200, 200),
    (
        "auth-password",
        "put",
        "/api/auth/password",
        {"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD},
        401,
        204,
        204,
        204,
        204,
    ),
    (
        "auth-password",
        "post",
        "/api/auth/password",
        f"password={NEW_PASSWORD}&current_password={DEFAULT_PASSWORD}",
        401,
        204,
        204,
        204,
        204,
    ),
    ("user-list", "get", "/api/users", None, 401, 403, 403, 403, 403),
    (
        "user-list",
        "post",
        "/api/users",
        {"email": "x@example.com", "password": NEW_PASSWORD},
        401,
        403,
        403,
        403,
        403,
    ),
    ("user-detail", "get", "/api/users/{owner_id}", None, 401, 403, 403, 403, 403),
    # One's own account only: the owner's id changes the owner's account.
    ("user-detail", "patch", "/api/users/{owner_id}", {"display_name": "Me"}, 401, 403, 403, 403, 200),
    (
        "user-detail",
        "put",
        "/api/users/{owner_id}",
        {"email": "{owner_email}", "display_name": "Me"},
        401,
        403,
        403,
        403,
        200,
    ),
    ("user-me", "get", "/api/users/me", None, 401, 200, 200, 200, 200),
    ("user-me", "patch", "/api/users/me", {"display_name": "Me"}, 401, 200, 200, 200, 200),
    ("household-list", "get", "/api/households", None, 401, 200, 200, 200, 200),
    (
        "household-list",
        "post",
        "/api/households",
        {"name": "New", "timezone": "UTC"},
        401,
        201,
        201,
        201,
        201,
    ),
    ("household-detail", "get", "/api/households/{household}", None, 401, 404, 200, 200, 200),
    (
        "household-detail",
        "put",
        "/api/households/{household}",
        {"name": "H", "timezone": "UTC"},
        401,
        404,
        403,
        403,
        200,
    ),
    ("household-detail", "patch", "/api/households/{household}", {"name": "H"}, 401, 404, 403, 403, 200),
    ("household-detail", "delete", "/api/households/{household}", None, 401, 404, 403, 403, 204),
    ("member-list", "get", "/api/households/{household}/members", None, 401, 404, 200, 200, 200),
    (
        "member-list",
        "post",
        "/api/households/{household}/members",
        {"email": "{newcomer_email}", "role": "viewer"},
        401,
        404,
        403,
        403,
        202,
    ),
    (
        "member-detail",
        "get",
        "/api/households/{household}/members/{other_member}",
        None,
        401,
        404,
        200,
        200,
        200,
    ),
    (
        "member-detail",
        "put",
        "/api/households/{household}/members/{other_member}",
        {"role": "viewer"},
        401,
        404,
        403,
        403,
        200,
    ),
    (
        "member-detail",
        "patch",
        "/api/households/{household}/members/{other_member}",
        {"role": "viewer"},
        401,
        404,
        403,
        403,
        200,
    ),
    (
        "member-detail",
        "delete",
        "/api/households/{household}/members/{other_member}",
        None,
        401,
        404,
        403,
        403,
        204,
    ),
    ("source-list", "get", "/api/sources", None, 401, 200, 200, 200, 200),
    ("source-list", "post", "/api/sources", SOURCE_BODY, 401, 400, 403, 201, 201),
    ("source-detail", "get", "/api/sources/{source}", None, 401, 404, 200, 200, 200),
    ("source-detail", "put", "/api/sources/{source}", SOURCE_BODY, 401, 404, 403, 403, 200),
    ("source-detail", "patch", "/api/sources/{source}", {"name": "Renamed"}, 401, 404, 403, 403, 200),
    ("source-detail", "delete", "/api/sources/{source}", None, 401, 404, 403, 403, 204),
    ("source-reading-list", "get", "/api/sources/{source}/readings", None, 401, 404, 200, 200, 200),
    ("source-reading-list", "post", "/api/sources/{source}/readings", READING_BODY, 401, 404, 403, 201, 201),
    # A reading the member added...
    (
        "source-reading-detail",
        "get",
        "/api/sources/{source}/readings/{members_reading}",
        None,
        401,
        404,
        200,
        200,
        200,
    ),
    (
        "source-reading-detail",
        "put",
        "/api/sources/{source}/readings/{members_reading}",
        READING_BODY,
        401,
        404,
        403,
        200,
        200,
    ),
    (
        "source-reading-detail",
        "patch",
        "/api/sources/{source}/readings/{members_reading}",
        {"values": {"energy": 1}},
        401,
        404,
        403,
        200,
        200,
    ),
    (
        "source-reading-detail",
        "delete",
        "/api/sources/{source}/readings/{members_reading}",
        None,
        401,
        404,
        403,
        204,
        204,
    ),
    # ...and one the owner added, which the member may read but not change.
    (
        "source-reading-detail",
        "patch",
        "/api/sources/{source}/readings/{owners_reading}",
        {"values": {"energy": 1}},
        401,
        404,
        403,
        403,
        200,
    ),
    (
        "source-reading-detail",
        "delete",
        "/api/sources/{source}/readings/{owners_reading}",
        None,
        401,
        404,
        403,
        403,
        204,
    ),
    (
        "source-readings-bulk",
        "post",
        "/api/sources/{source}/readings/bulk",
        [READING_BODY],
        401,
        404,
        403,
        200,
        200,
    ),
    ("source-readings-csv", "get", "/api/sources/{source}/readings.csv", None, 401, 404, 200, 200, 200),
    ("source-token-list", "get", "/api/sources/{source}/tokens", None, 401, 404, 403, 403, 200),
    (
        "source-token-list",
        "post",
        "/api/sources/{source}/tokens",
        {"name": "Reader"},
        401,
        404,
        403,
        403,
        201,
    ),
    (
        "household-invitation-list",
        "get",
        "/api/households/{household}/invitations",
        None,
        401,
        404,
        403,
        403,
        200,
    ),
    (
        "household-invitation-detail",
        "get",
        "/api/households/{household}/invitations/{invitation}",
        None,
        401,
        404,
        403,
        403,
        200,
    ),
    (
        "household-invitation-detail",
        "delete",
        "/api/households/{household}/invitations/{invitation}",
        None,
        401,
        404,
        403,
        403,
        204,
    ),
    # An invitation is its invitee's (here the outsider's) to see, accept or decline.
    ("invitation-list", "get", "/api/invitations", None, 401, 200, 200, 200, 200),
    ("invitation-detail", "get", "/api/invitations/{invitation}", None, 401, 200, 404, 404, 404),
    ("invitation-detail", "delete", "/api/invitations/{invitation}", None, 401, 204, 404, 404, 404),
    ("invitation-accept", "post", "/api/invitations/{invitation}/accept", None, 401, 201, 404, 404, 404),
    ("source-token-detail", "get", "/api/sources/{source}/tokens/{token}", None, 401, 404, 403, 403, 200),
    ("source-token-detail", "delete", "/api/sources/{source}/tokens/{token}", None, 401, 404, 403, 403, 204),
    ("source-usage", "get", "/api/sources/{source}/usage", None, 401, 404, 200, 200, 200),
    ("household-usage", "get", "/api/households/{household}/usage", None, 401, 404, 200, 200, 200),
    ("schema", "get", "/api/schema", None, 200, 200, 200, 200, 200),
    ("docs", "get", "/api/docs", None, 200, 200, 200, 200, 200),
]

CASES = [
    pytest.param(name, method, path, body, role, statuses[index], id=f"{method.upper()} {path} as {role}")
    for name, method, path, body, *statuses in MATRIX
    for index, role in enumerate(ROLES)
]


@pytest.fixture
def world(household, owner, member, viewer, outsider):
    source = DataSourceFactory(household=household, created_by=owner)
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return SimpleNamespace(
        people={"anonymous": None, "outsider": outsider, "viewer": viewer, "member": member, "owner": owner},
        values={
            "household": household.pk,
            "source": source.pk,
            "owner_id": owner.pk,
            "owner_email": owner.email,
            "newcomer_email": UserFactory().email,
            "other_member": MembershipFactory(household=household, role=Role.MEMBER).user_id,
            "members_reading": ReadingFactory(data_source=source, created_by=member, timestamp=at).pk,
            "owners_reading": ReadingFactory(
                data_source=source, created_by=owner, timestamp=at + dt.timedelta(1)
            ).pk,
            "refresh_token": str(RefreshToken.for_user(owner)),
            "token": DeviceTokenFactory(data_source=source).pk,
            "invitation": InvitationFactory(household=household, email=outsider.email).pk,
        },
    )


def _fill(template, values):
    if isinstance(template, str):
        filled = template.format(**values)
        return int(filled) if filled.isdigit() and template.startswith("{") else filled
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    return template


@pytest.mark.parametrize(("name", "method", "path", "body", "role", "expected"), CASES)
def test_authorization(world, name, method, path, body, role, expected):
    client = bearer_client(world.people[role])
    url = _fill(path, world.values)
    if isinstance(body, str):
        response = getattr(client, method)(url, body, content_type="application/x-www-form-urlencoded")
    else:
        response = getattr(client, method)(url, _fill(body, world.values), format="json")
    assert response.status_code == expected, response.content[:300]


def _served_routes():
    """(URL name, method) for every route the API serves."""
    served = set()
    for pattern in api_urls.urlpatterns:
        view = pattern.callback
        if hasattr(view, "actions"):
            methods = view.actions
        else:
            methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view.view_class, m)]
        # HEAD answers as GET does, and OPTIONS describes the route: neither changes anything.
        served |= {(pattern.name, method) for method in methods if method not in ("head", "options")}
    return served


def test_the_matrix_names_every_route_and_method():
    assert {(name, method) for name, method, *_ in MATRIX} == _served_routes()
