import zoneinfo

from django import forms
from django.contrib.auth import forms as auth_forms
from rest_framework.exceptions import Throttled

from accounts.api.throttles import FailedLoginLimit
from accounts.models import Household, Membership, Role, normalize_email
from accounts.services import change_password


class SignInForm(auth_forms.AuthenticationForm):
    """Django's sign-in form, with the browser hints that make it pleasant on a phone, and the same limit
    on failed attempts as the API's login (the counters are shared, so neither is a way around the other)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "email", "inputmode": "email", "autocapitalize": "none", "spellcheck": "false"}
        )

    def clean(self):
        email = normalize_email(self.cleaned_data.get("username"))
        if not email or not self.cleaned_data.get("password"):
            return super().clean()
        limit = FailedLoginLimit(self.request, email)
        try:
            limit.attempt()
        except Throttled as exc:
            raise forms.ValidationError(
                f"Too many failed sign-ins. Try again in {exc.wait:.0f} seconds.", code="throttled"
            ) from None
        cleaned = super().clean()
        limit.succeeded()
        return cleaned


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def save(self, commit=True):
        # As the API does: the new password also ends every API session opened with the old one.
        change_password(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


class SetPasswordForm(auth_forms.SetPasswordForm):
    def save(self, commit=True):
        change_password(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


def timezone_choices():
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class HouseholdForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        help_text="Days, weeks and months of usage follow this time zone.",
    )

    class Meta:
        model = Household
        fields = ["name", "timezone"]


class AddMemberForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args, household, **kwargs):
        self.household = household
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if Membership.objects.filter(household=self.household, user__email=email).exists():
            raise forms.ValidationError(f"{email} is already a member of {self.household}.")
        return email


class MembershipRoleForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]
