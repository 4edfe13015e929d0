"""The API's authentication routes (/api/auth/...): log in with email and password, refresh and revoke
tokens, see who a token belongs to, change the password."""

import jwt
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.models import update_last_login
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.api.serializers import (
    LoginSerializer,
    PasswordSerializer,
    RefreshTokenSerializer,
    TokenOwnerSerializer,
    TokenPairSerializer,
)
from accounts.api.throttles import FailedLoginLimit
from accounts.models import User
from accounts.services import change_password
from homelog.api.exceptions import BEARER_CHALLENGE
from homelog.api.parsers import JSONParser

JSON_OR_FORM = [JSONParser, FormParser]


# Every refresh token minted by rotation carries the jti of the one its login gave: its family.
FAMILY_CLAIM = "family"


def _family(payload):
    return payload.get(FAMILY_CLAIM) or payload.get(jwt_settings.JTI_CLAIM)


def _new_refresh_token(user):
    refresh = RefreshToken.for_user(user)
    refresh[FAMILY_CLAIM] = refresh[jwt_settings.JTI_CLAIM]
    OutstandingToken.objects.filter(jti=refresh[jwt_settings.JTI_CLAIM]).update(token=str(refresh))
    return refresh


def _revoke_family(raw):
    """Blacklist every live token of the family of `raw`, a genuine refresh token sent after rotation."""
    try:
        payload = token_backend.decode(raw, verify=True)
    except TokenBackendError:
        return
    if payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh":
        return
    family = _family(payload)
    live = OutstandingToken.objects.filter(
        user_id=payload.get(jwt_settings.USER_ID_CLAIM), expires_at__gt=timezone.now(), blacklistedtoken=None
    )
    for outstanding in live:
        # Our own stored text, signed by us: read, not verified again.
        claims = jwt.decode(outstanding.token, options={"verify_signature": False})
        if _family(claims) == family:
            BlacklistedToken.objects.get_or_create(token=outstanding)


def _token_pair(refresh):
    return {"access_token": str(refresh.access_token), "token_type": "bearer", "refresh_token": str(refresh)}


def _verified_refresh_token(raw):
    """The refresh token `raw`, if it is genuine, unexpired, not revoked and its user may still log in."""
    try:
        refresh = RefreshToken(raw)
    except TokenError as exc:
        raise InvalidToken(
            {"detail": f"The refresh token is not valid: {exc}", "code": "token_not_valid"}
        ) from exc
    user = User.objects.filter(pk=refresh.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None or refresh.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise InvalidToken({"detail": "The refresh token has been revoked.", "code": "token_not_valid"})
    return refresh


class TokenView(APIView):
    """Views that exchange credentials or refresh tokens for tokens: no authentication, no CSRF."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = JSON_OR_FORM

    def get_authenticate_header(self, request):
        return BEARER_CHALLENGE


class LoginView(TokenView):
    @extend_schema(
        operation_id="auth_login",
        summary="Log in with email and password",
        description="JSON or form-encoded (the OAuth2 password grant). Failed logins are limited per email "
        "and per client address; over the limit the answer is 429 with Retry-After.",
        request={"application/json": LoginSerializer, "application/x-www-form-urlencoded": LoginSerializer},
        responses={200: TokenPairSerializer},
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email, password = serializer.validated_data["username"], serializer.validated_data["password"]
        limit = FailedLoginLimit(request, email)
        limit.attempt()
        user = authenticate(request, username=email, password=password)
        if user is None:
            raise AuthenticationFailed("Incorrect email or password.", code="invalid_credentials")
        limit.succeeded()
        update_last_login(None, user)
        return Response(_token_pair(_new_refresh_token(user)))


class OAuth2LoginView(LoginView):
    """POST /login: the original service's OAuth2 token URL, where its clients and its interactive docs post
    the password form. The same as /api/auth/login, which the schema documents."""

    @extend_schema(exclude=True)
    def post(self, request):
        return super().post(request)


class RefreshView(TokenView):
    @extend_schema(
        operation_id="auth_refresh",
        summary="Exchange a refresh token for new tokens",
        description="The refresh token is rotated: the one sent stops working.",
        request=RefreshTokenSerializer,
        responses={200: TokenPairSerializer},
    )
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data["refresh_token"]
        try:
            refresh = _verified_refresh_token(raw)
        except InvalidToken:
            # A rotated token sent again was copied: whoever holds its successor may not be its owner.
            _revoke_family(raw)
            raise
        with transaction.atomic():
            outstanding, _ = refresh.outstand()
            # Rotation is one at a time per token: the first of parallel requests blacklists it, and the
            # others, waiting on the row lock, find it blacklisted.
            outstanding = OutstandingToken.objects.select_for_update().get(pk=outstanding.pk)
            _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        if not created:
            _revoke_family(raw)
            raise InvalidToken(
                {"detail": "The refresh token is not valid: Token is blacklisted", "code": "token_not_valid"}
            )
        refresh[FAMILY_CLAIM] = _family(refresh.payload)
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
        return Response(_token_pair(refresh))


class LogoutView(TokenView):
    @extend_schema(
        operation_id="auth_logout",
        summary="Revoke a refresh token",
        request=RefreshTokenSerializer,
        responses={204: None},
    )
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _verified_refresh_token(serializer.validated_data["refresh_token"]).blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ValidateView(APIView):
    @extend_schema(
        operation_id="auth_validate", summary="Who the token belongs to", responses=TokenOwnerSerializer
    )
    def get(self, request):
        return Response(TokenOwnerSerializer(request.user).data)

    @extend_schema(
        operation_id="auth_validate_put",
        summary="Who the token belongs to",
        request=None,
        responses=TokenOwnerSerializer,
    )
    def put(self, request):
        return self.get(request)


class PasswordView(APIView):
    parser_classes = JSON_OR_FORM

    @extend_schema(
        operation_id="auth_password",
        summary="Change the caller's password",
        description="Every access and refresh token issued before the change stops working.",
        request=PasswordSerializer,
        responses={204: None},
    )
    def put(self, request):
        serializer = PasswordSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        change_password(user=request.user, password=serializer.validated_data["password"])
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Keep the page session that made the change logged in; every other session ends.
            update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="auth_password_form",
        summary="Change the caller's password (form-encoded)",
        request={"application/x-www-form-urlencoded": PasswordSerializer},
        responses={204: None},
    )
    def post(self, request):
        return self.put(request)
