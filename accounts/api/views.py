"""The API's users, households, their members and invitations."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from accounts.api.serializers import (
    HouseholdSerializer,
    InvitationSerializer,
    MembershipChangeSerializer,
    MembershipSerializer,
    NewUserSerializer,
    UserSerializer,
    check_current_password,
)
from accounts.models import Household, Invitation, LastOwnerError, Membership, Role, User
from accounts.services import AlreadyMember, accept_invitation, create_household, invite
from homelog.api.exceptions import Conflict, save_or_conflict
from homelog.api.locations import LocationOnCreateMixin, location
from homelog.api.permissions import require


@extend_schema_view(
    list=extend_schema(summary="List users (staff only)"),
    create=extend_schema(
        summary="Create a user (staff only)", request=NewUserSerializer, responses={201: UserSerializer}
    ),
    retrieve=extend_schema(summary="A user (staff only)"),
)
class UserViewSet(
    LocationOnCreateMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
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
        data = UserSerializer(user).data
        return Response(data, status=status.HTTP_201_CREATED, headers=self.get_success_headers(data))

    @extend_schema(summary="The caller's own account", methods=["GET"])
    @extend_schema(summary="Change the caller's email or display name", methods=["PATCH"])
    @action(detail=False, methods=["get", "patch"], permission_classes=[IsAuthenticated])
    def me(self, request):
        if request.method == "GET":
            return Response(UserSerializer(request.user).data)
        return self._change_own_account(request, partial=True)

    @extend_schema(summary="Change one's own email or display name (one's own id)")
    def update(self, request, *args, **kwargs):
        if str(request.user.pk) != self.kwargs["pk"]:
            raise PermissionDenied("You can change only your own account here.")
        return self._change_own_account(request, partial=kwargs.get("partial", False))

    @extend_schema(summary="Change one's own email or display name (one's own id)")
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def get_permissions(self):
        if self.action in ("update", "partial_update"):
            return [IsAuthenticated()]
        return super().get_permissions()

    def _change_own_account(self, request, *, partial):
        """The caller's email or name changed; a new email needs the current password (a stolen token
        alone must not take the account), and one already taken is a 409."""
        serializer = UserSerializer(request.user, data=request.data, partial=partial)
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
class HouseholdViewSet(LocationOnCreateMixin, viewsets.ModelViewSet):
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
        headers = location(
            request, "household-invitation-detail", household_pk=self.household.pk, pk=invitation.pk
        )
        return Response(
            InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED, headers=headers
        )

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


class InvitationsViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Invitations to list, see one of and delete (withdraw or decline): of a household, or to the caller."""

    serializer_class = InvitationSerializer
    lookup_value_regex = "[0-9]+"


@extend_schema_view(
    list=extend_schema(summary="A household's open invitations (owners)"),
    retrieve=extend_schema(summary="One open invitation of a household (owners)"),
    destroy=extend_schema(summary="Withdraw an invitation (owners)"),
)
class HouseholdInvitationViewSet(InvitationsViewSet):
    """The open invitations of one household; invite with POST /api/households/{id}/members."""

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
class InvitationViewSet(InvitationsViewSet):
    """Invitations addressed to the caller: accept to join the household, or decline."""

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
        headers = location(request, "household-detail", pk=household.pk)
        return Response(HouseholdSerializer(household).data, status=status.HTTP_201_CREATED, headers=headers)
