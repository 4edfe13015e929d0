"""Authentication of devices by `Authorization: Token <secret>`, for the views that accept readings.

A device is not a person: the request's user stays anonymous and `request.auth` is the DeviceToken, so any
view that wants a signed-in user refuses it, and only the views that add readings list this class and then
look for the token's source alone (`writable_sources`).
"""

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from sources.models import DataSource, DeviceToken

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
            raise AuthenticationFailed("The device token is not valid.") from None
        token = DeviceToken.objects.for_secret(secret)
        if token is None:
            raise AuthenticationFailed("The device token is not valid or has been revoked.")
        token.record_use()
        return AnonymousUser(), token

    def authenticate_header(self, request):
        return "Token"


def device_token_of(request):
    return request.auth if isinstance(request.auth, DeviceToken) else None


class IsDeviceToken(BasePermission):
    """Lets a device in; what it may touch is then limited by `writable_sources`."""

    def has_permission(self, request, view):
        return device_token_of(request) is not None


def writable_sources(request):
    """Sources the request may add readings to: the token's own source for a device, else the user's."""
    token = device_token_of(request)
    if token is not None:
        return DataSource.objects.filter(pk=token.data_source_id)
    return DataSource.objects.writable_by(request.user)
