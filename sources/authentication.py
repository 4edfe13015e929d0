"""Authentication of devices by `Authorization: Token <secret>`, for the views that add readings.

A device is not a person: the request's user stays anonymous and `request.auth` is the DeviceToken. Only
the views that add readings list this class; they allow a device to POST and nothing else, and find the
source among the token's own alone (readings/api/views.py: any other is a 404).
"""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from sources.models import DeviceToken

KEYWORD = b"token"


class DeviceTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Give the device token as 'Authorization: Token <secret>'.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("The device token is not valid or has been revoked.") from None
        token = DeviceToken.objects.for_secret(secret)
        if token is None:
            raise AuthenticationFailed("The device token is not valid or has been revoked.")
        token.record_use()
        return AnonymousUser(), token

    def authenticate_header(self, request):
        return "Token"


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = DeviceTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <secret>`: a device token, which can only add readings to its source.",
        }


def device_token_of(request):
    return request.auth if isinstance(request.auth, DeviceToken) else None


class IsAuthenticatedOrDeviceAdding(BasePermission):
    """A signed-in person, or a device adding readings (a POST); a device may read nothing."""

    message = "A device token can only add readings."

    def has_permission(self, request, view):
        if device_token_of(request) is not None:
            return request.method == "POST"
        return bool(request.user and request.user.is_authenticated)


def creator_of(request):
    """The user to record as a reading's creator: nobody for a device."""
    return request.user if request.user.is_authenticated else None
