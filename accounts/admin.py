from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet

from accounts.models import Household, Invitation, Membership, Role, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]


class MembershipInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept_roles = [
            form.cleaned_data.get("role")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if self.instance.pk and Role.OWNER not in kept_roles:
            raise ValidationError("A household must keep at least one owner.")


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipInlineFormSet
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "member_count", "source_count", "created_at"]
    list_filter = ["timezone"]
    search_fields = ["name", "memberships__user__email"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("memberships", distinct=True),
                source_count=Count("data_sources", distinct=True),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, household):
        return household.member_count

    @admin.display(description="sources", ordering="source_count")
    def source_count(self, household):
        return household.source_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "household", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "household__name"]
    autocomplete_fields = ["user", "household"]
    list_select_related = ["user", "household"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "household", "role", "invited_by", "created_at"]
    list_filter = ["role"]
    search_fields = ["email", "household__name"]
    list_select_related = ["household", "invited_by"]
    raw_id_fields = ["household", "invited_by"]
    readonly_fields = ["created_at"]
