import jwt
from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.models import update_last_login
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.api.serializers import (
    HouseholdSerializer,
    InvitationSerializer,
    LoginSerializer,
    MembershipChangeSerializer,
    MembershipSerializer,
    NewUserSerializer,
    PasswordSerializer,
    RefreshTokenSerializer,
    TokenOwnerSerializer,
    TokenPairSerializer,
    UserSerializer,
    check_current_password,
)
from accounts.api.throttles import FailedLoginLimit
from accounts.models import Household, Invitation, LastOwnerError, Membership, Role, User
from accounts.services import AlreadyMember, accept_invitation, change_password, create_household, invite
from homelog.api.exceptions import BEARER_CHALLENGE, Conflict, save_or_conflict
from homelog.api.parsers import JSONParser
from homelog.api.permissions import require

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


@extend_schema_view(
    list=extend_schema(summary="List users (staff only)"),
    create=extend_schema(
        summary="Create a user (staff only)", request=NewUserSerializer, responses={201: UserSerializer}
    ),
    retrieve=extend_schema(summary="A user (staff only)"),
)
class UserViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = User.objects.order_by("id")
    serializer_class = UserSerializer
    permission_classes = [IsAdminUser]
    lookup_value_regex = "[0-9]+"

    def get_serializer_class(self):
        return NewUserSerializer if self.action == "create" else UserSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = save_or_conflict(serializer, "A user with this email address already exists.")
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="The caller's own account", methods=["GET"])
    @extend_schema(summary="Change the caller's email or display name", methods=["PATCH"])
    @action(detail=False, methods=["get", "patch"], permission_classes=[IsAuthenticated])
    def me(self, request):
        if request.method == "GET":
            return Response(UserSerializer(request.user).data)
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        new_email = serializer.validated_data.get("email")
        if new_email is not None and new_email != request.user.email:
            current = request.data.get("current_password") if hasattr(request.data, "get") else None
            if not isinstance(current, str) or not current:
                raise serializers.ValidationError({"current_password": ["This field is required."]})
            check_current_password(request, current)
        save_or_conflict(serializer, "A user with this email address already exists.")
        return Response(serializer.data)


@extend_schema_view(
    list=extend_schema(summary="The caller's households"),
    create=extend_schema(summary="Create a household; the caller becomes its owner"),
    retrieve=extend_schema(summary="A household"),
    update=extend_schema(summary="Rename a household or change its time zone (owners)"),
    partial_update=extend_schema(summary="Rename a household or change its time zone (owners)"),
    destroy=extend_schema(summary="Delete a household with its sources and readings (owners)"),
)
class HouseholdViewSet(viewsets.ModelViewSet):
    serializer_class = HouseholdSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Household.objects.none()
        user = self.request.user
        return Household.objects.visible_to(user).with_role_of(user).order_by("name", "id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        household = create_household(
            name=data["name"], timezone=data.get("timezone", settings.TIME_ZONE), owner=self.request.user
        )
        household.role = Role.OWNER
        serializer.instance = household

    def get_object(self):
        household = super().get_object()
        if self.action in ("update", "partial_update", "destroy"):
            # Checked before the body is read: the answer is "you may not", not what the body lacks.
            require(
                Household.objects.owned_by(self.request.user),
                household,
                "Only the household's owners can change or delete it.",
            )
        return household


@extend_schema_view(
    list=extend_schema(summary="The members of a household"),
    create=extend_schema(
        summary="Invite someone by email with a role (owners)",
        description="Whoever signs in with the address becomes a member once they accept "
        "(`POST /api/invitations/{id}/accept`). The answer is the same whether or not the address has an "
        "account yet; inviting it again offers the new role.",
        request=InvitationSerializer,
        responses={202: InvitationSerializer},
    ),
    retrieve=extend_schema(summary="One member of a household"),
    update=extend_schema(summary="Change a member's role (owners)", request=MembershipChangeSerializer),
    partial_update=extend_schema(
        summary="Change a member's role (owners)", request=MembershipChangeSerializer
    ),
    destroy=extend_schema(summary="Remove a member (owners), or leave the household (any member)"),
)
class MembershipViewSet(viewsets.ModelViewSet):
    serializer_class = MembershipSerializer
    lookup_field = "user_id"
    lookup_value_regex = "[0-9]+"

    @property
    def household(self):
        if not hasattr(self, "_household"):
            households = Household.objects.visible_to(self.request.user)
            self._household = get_object_or_404(households, pk=self.kwargs["household_pk"])
        return self._household

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return (
            Membership.objects.filter(household=self.household).select_related("user").order_by("user__email")
        )

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return MembershipChangeSerializer
        return MembershipSerializer

    def _require_owner(self, message):
        require(Household.objects.owned_by(self.request.user), self.household, message)

    def create(self, request, *args, **kwargs):
        self._require_owner("Only the household's owners can add members.")
        serializer = InvitationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        try:
            invitation = invite(
                household=self.household,
                email=email,
                role=serializer.validated_data.get("role", Role.MEMBER),
                invited_by=request.user,
            )
        except AlreadyMember:
            raise Conflict(f"{email} is already a member of this household.") from None
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)

    def get_object(self):
        membership = super().get_object()
        if self.action in ("update", "partial_update"):
            self._require_owner("Only the household's owners can change roles.")
        elif self.action == "destroy" and membership.user_id != self.request.user.pk:
            # Anyone may leave a household; only owners remove others.
            self._require_owner("Only the household's owners can remove other members.")
        return membership

    def perform_update(self, serializer):
        try:
            serializer.save()
        except LastOwnerError as exc:
            raise Conflict(exc.message) from exc

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except LastOwnerError as exc:
            raise Conflict(exc.message) from exc


@extend_schema_view(
    list=extend_schema(summary="A household's open invitations (owners)"),
    retrieve=extend_schema(summary="One open invitation of a household (owners)"),
    destroy=extend_schema(summary="Withdraw an invitation (owners)"),
)
class HouseholdInvitationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The open invitations of one household; invite with POST /api/households/{id}/members."""

    serializer_class = InvitationSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        household = get_object_or_404(
            Household.objects.visible_to(self.request.user), pk=self.kwargs["household_pk"]
        )
        require(
            Household.objects.owned_by(self.request.user),
            household,
            "Only the household's owners can see and withdraw its invitations.",
        )
        return household.invitations.select_related("household", "invited_by").order_by("email")


@extend_schema_view(
    list=extend_schema(summary="The invitations to the caller's email address"),
    retrieve=extend_schema(summary="One invitation to the caller"),
    destroy=extend_schema(summary="Decline an invitation"),
)
class InvitationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Invitations addressed to the caller: accept to join the household, or decline."""

    serializer_class = InvitationSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return (
            Invitation.objects.addressed_to(self.request.user)
            .select_related("household", "invited_by")
            .order_by("created_at", "id")
        )

    @extend_schema(
        summary="Accept an invitation: join its household with the role offered",
        request=None,
        responses={201: HouseholdSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        invitation = self.get_object()
        try:
            accept_invitation(invitation, user=request.user)
        except Invitation.DoesNotExist:
            raise NotFound("This invitation was withdrawn or accepted meanwhile.") from None
        household = Household.objects.with_role_of(request.user).get(pk=invitation.household_id)
        return Response(HouseholdSerializer(household).data, status=status.HTTP_201_CREATED)
