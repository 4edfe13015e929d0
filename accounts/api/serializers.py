from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.serializers import ModelSerializer

from accounts.api.throttles import FailedLoginLimit
from accounts.models import Household, Invitation, Membership, Role, User, normalize_email


def validated_password(password, user=None):
    """`password` if Django's password validators accept it (for `user`), else a 400 naming every problem."""
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc
    return password


# --- authentication ---------------------------------------------------------------------------------------


class LoginSerializer(serializers.Serializer):
    """The OAuth2 password grant's fields, so that the interactive docs can log in too."""

    username = serializers.CharField(max_length=254, help_text="The user's email address.")
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})

    def validate_username(self, value):
        return normalize_email(value)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["bearer"])
    refresh_token = serializers.CharField()


class RefreshTokenSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=4096)


def check_current_password(request, value):
    """The caller's current password, or a 400 on `current_password`; a wrong one is a failed login."""
    user = request.user
    limit = FailedLoginLimit(request, user.email)
    limit.attempt()
    if not user.check_password(value):
        raise serializers.ValidationError({"current_password": ["The current password is not correct."]})
    limit.succeeded()


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    current_password = serializers.CharField(
        max_length=4096, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )

    def validate(self, attrs):
        check_current_password(self.context["request"], attrs["current_password"])
        return attrs

    def validate_password(self, value):
        return validated_password(value, self.context["request"].user)


class TokenOwnerSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email"]


# --- users, households, members --------------------------------------------------------------------------


class UserSerializer(ModelSerializer):
    # The original service's name for it: accepted and answered, the same value as display_name.
    username = serializers.CharField(
        source="display_name", required=False, allow_blank=True, max_length=150, help_text="= display_name."
    )

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "username", "is_staff", "date_joined"]
        read_only_fields = ["id", "is_staff", "date_joined"]
        # Uniqueness is checked by the view, which answers a clash with 409 rather than 400.
        extra_kwargs = {"email": {"validators": []}}

    def validate_email(self, value):
        return normalize_email(value)

    def to_internal_value(self, data):
        both = hasattr(data, "get") and "username" in data and "display_name" in data
        if both and data["username"] != data["display_name"]:
            raise serializers.ValidationError(
                {
                    "username": [
                        "It is the display name by its other name: leave it out, or send the same value."
                    ]
                }
            )
        return super().to_internal_value(data)


class NewUserSerializer(UserSerializer):
    password = serializers.CharField(
        write_only=True, max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]
        read_only_fields = ["id", "date_joined"]

    def validate(self, attrs):
        candidate = User(email=attrs["email"], display_name=attrs.get("display_name", ""))
        try:
            validated_password(attrs["password"], candidate)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"password": exc.detail}) from exc
        return attrs

    def create(self, validated_data):
        return User.objects.create_user(**validated_data)


class HouseholdSerializer(ModelSerializer):
    role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, help_text="The caller's role in this household."
    )

    class Meta:
        model = Household
        fields = ["id", "name", "timezone", "role", "created_at"]
        read_only_fields = ["id", "created_at"]


class MembershipSerializer(ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(source="user.email", help_text="An existing user's email address.")
    display_name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "email", "display_name", "role", "created_at"]
        read_only_fields = ["created_at"]

    def validate_email(self, value):
        return normalize_email(value)


class InvitationSerializer(ModelSerializer):
    """An invitation to a household: what its owners and the invitee see."""

    household_id = serializers.IntegerField(read_only=True)
    household_name = serializers.CharField(source="household.name", read_only=True)
    email = serializers.EmailField(max_length=254, help_text="Whoever signs in with this address may accept.")
    invited_by = serializers.CharField(source="invited_by.get_full_name", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "household_id", "household_name", "email", "role", "invited_by", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_email(self, value):
        return normalize_email(value)


class MembershipChangeSerializer(MembershipSerializer):
    """A member's role is all that changes; who the member is does not."""

    class Meta(MembershipSerializer.Meta):
        read_only_fields = ["created_at", "email"]
        extra_kwargs = {"role": {"required": True}}

    email = serializers.EmailField(source="user.email", read_only=True)
