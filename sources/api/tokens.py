"""/api/sources/{id}/tokens: the device tokens of a source, which its household's owners issue and revoke.

The secret is in the answer to the POST that issues a token and nowhere else, ever: only its hash is kept.
"""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.serializers import ModelSerializer

from homelog.api.fields import MomentField
from homelog.api.permissions import require
from sources.models import DataSource, DeviceToken


class DeviceTokenSerializer(ModelSerializer):
    data_source_id = serializers.IntegerField(read_only=True)
    created_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    created_at = MomentField(read_only=True)
    last_used_at = MomentField(read_only=True, allow_null=True)
    revoked_at = MomentField(read_only=True, allow_null=True)

    class Meta:
        model = DeviceToken
        fields = [
            "id",
            "data_source_id",
            "name",
            "prefix",
            "created_by_id",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "prefix"]


class IssuedDeviceTokenSerializer(DeviceTokenSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Send as `Authorization: Token <secret>`. Shown this once only."
    )

    class Meta(DeviceTokenSerializer.Meta):
        fields = [*DeviceTokenSerializer.Meta.fields, "secret"]


@extend_schema_view(
    list=extend_schema(summary="A source's device tokens, revoked ones included (owners)"),
    retrieve=extend_schema(summary="A device token (owners)"),
    create=extend_schema(
        summary="Issue a device token (owners); the answer holds its secret, shown this once only",
        responses={201: IssuedDeviceTokenSerializer},
    ),
    destroy=extend_schema(summary="Revoke a device token (owners); it stays listed with revoked_at"),
)
class DeviceTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DeviceTokenSerializer
    lookup_value_regex = "[0-9]+"

    @cached_property
    def data_source(self):
        source = get_object_or_404(
            DataSource.objects.visible_to(self.request.user), pk=self.kwargs["source_pk"]
        )
        require(
            DataSource.objects.editable_by(self.request.user),
            source,
            "Only the household's owners can manage its device tokens.",
        )
        return source

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DeviceToken.objects.none()
        return DeviceToken.objects.filter(data_source=self.data_source).order_by("-created_at", "-id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = DeviceToken.issue(
            data_source=self.data_source, name=serializer.validated_data["name"], created_by=request.user
        )
        token.secret = secret
        location = reverse(
            "api:source-token-detail", kwargs={"source_pk": token.data_source_id, "pk": token.pk}
        )
        return Response(
            IssuedDeviceTokenSerializer(token).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(location)},
        )

    def perform_destroy(self, instance):
        instance.revoke()
