from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.forms import AddMemberForm, HouseholdForm, MembershipRoleForm, SignInForm
from accounts.models import Household, Invitation, Role
from accounts.services import AlreadyMember, accept_invitation, invite


class SignOutView(auth_views.LogoutView):
    """Signs out, and says so on the sign-in page it leads to."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You are signed out.")
        return response


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


def owned_household_or_403(user, pk):
    """The household `pk` if `user` owns it; 404 outside the user's households, 403 for other roles."""
    household = get_object_or_404(Household.objects.visible_to(user).with_rights_of(user), pk=pk)
    if not household.user_is_owner:
        raise PermissionDenied("Only the owners of a household can change its settings.")
    return household


def _settings_page(request, household, *, household_form=None, add_member_form=None, role_forms=None):
    role_forms = role_forms or {}
    memberships = household.memberships.select_related("user").order_by("user__email")
    members = [
        (
            membership,
            role_forms.get(membership.pk)
            or MembershipRoleForm(instance=membership, prefix=f"m{membership.pk}"),
        )
        for membership in memberships
    ]
    # The household is the user's to own (owned_household_or_403): all its sources are theirs to edit.
    sources = household.data_sources.order_by("name")
    invitations = household.invitations.order_by("email")
    status = 200 if not (household_form or add_member_form or role_forms) else 400
    return render(
        request,
        "accounts/household_settings.html",
        {
            "household": household,
            "household_form": household_form or HouseholdForm(instance=household),
            "add_member_form": add_member_form or AddMemberForm(household=household),
            "members": members,
            "invitations": invitations,
            "sources": sources,
        },
        status=status,
    )


@login_required
def household_settings(request, pk):
    household = owned_household_or_403(request.user, pk)
    if request.method == "POST":
        form = HouseholdForm(request.POST, instance=household)
        if form.is_valid():
            form.save()
            messages.success(request, "Household saved.")
            return redirect("accounts:household-settings", pk=household.pk)
        return _settings_page(request, household, household_form=form)
    return _settings_page(request, household)


@login_required
@require_POST
def member_add(request, pk):
    household = owned_household_or_403(request.user, pk)
    form = AddMemberForm(request.POST, household=household)
    if form.is_valid():
        email, role = form.cleaned_data["email"], form.cleaned_data["role"]
        try:
            invite(household=household, email=email, role=role, invited_by=request.user)
        except AlreadyMember:
            form.add_error("email", f"{email} is already a member of {household}.")
        else:
            messages.success(
                request,
                f"Invited {email} as {Role(role).label.lower()}. Whoever signs in with that address joins "
                f"{household} once they accept.",
            )
            return redirect(reverse("accounts:household-settings", args=[household.pk]) + "#members")
    return _settings_page(request, household, add_member_form=form)


def _membership_or_404(request, pk, membership_pk):
    household = owned_household_or_403(request.user, pk)
    membership = get_object_or_404(household.memberships.select_related("user"), pk=membership_pk)
    return household, membership


@login_required
@require_POST
def member_role(request, pk, membership_pk):
    household, membership = _membership_or_404(request, pk, membership_pk)
    form = MembershipRoleForm(request.POST, instance=membership, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            form.save()
        except ValidationError as exc:  # the last owner cannot step down
            form.add_error("role", exc)
        else:
            messages.success(request, f"{membership.user} is now {membership.get_role_display().lower()}.")
            if membership.user == request.user and membership.role != Role.OWNER:
                return redirect("readings:home")
            return redirect(reverse("accounts:household-settings", args=[household.pk]) + "#members")
    return _settings_page(request, household, role_forms={membership.pk: form})


@login_required
@require_POST
def member_remove(request, pk, membership_pk):
    household, membership = _membership_or_404(request, pk, membership_pk)
    try:
        membership.delete()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user} no longer belongs to {household}.")
        if membership.user == request.user:
            return redirect("readings:home")
    return redirect(reverse("accounts:household-settings", args=[household.pk]) + "#members")


@login_required
@require_POST
def invitation_withdraw(request, pk, invitation_pk):
    household = owned_household_or_403(request.user, pk)
    invitation = get_object_or_404(household.invitations, pk=invitation_pk)
    invitation.delete()
    messages.success(request, f"Withdrew the invitation of {invitation.email}.")
    return redirect(reverse("accounts:household-settings", args=[household.pk]) + "#members")


@login_required
@require_POST
def invitation_answer(request, invitation_pk):
    """Accept or decline an invitation to the signed-in user's address."""
    invitation = get_object_or_404(
        Invitation.objects.addressed_to(request.user).select_related("household"), pk=invitation_pk
    )
    if "accept" in request.POST:
        try:
            accept_invitation(invitation, user=request.user)
        except Invitation.DoesNotExist:
            raise Http404("This invitation was withdrawn meanwhile.") from None
        messages.success(
            request, f"You joined {invitation.household} as {invitation.get_role_display().lower()}."
        )
    else:
        invitation.delete()
        messages.success(request, f"You declined the invitation to {invitation.household}.")
    return redirect("readings:home")
