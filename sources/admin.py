from django.contrib import admin, messages
from django.utils import timezone

from sources.models import DataSource, DeviceToken


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "household",
        "type",
        "metric_summary",
        "price_per_unit",
        "is_active",
        "created_at",
    ]
    list_filter = ["type", "is_active", "household"]
    search_fields = ["name", "description", "household__name"]
    autocomplete_fields = ["household", "created_by"]
    list_select_related = ["household"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="metrics")
    def metric_summary(self, source):
        return ", ".join(f"{name} ({unit})" for name, unit in source.units.items())


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "data_source", "household", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "data_source__household"]
    search_fields = ["name", "prefix", "data_source__name", "data_source__household__name"]
    autocomplete_fields = ["data_source"]
    list_select_related = ["data_source__household"]
    fields = ["name", "data_source", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description="household", ordering="data_source__household__name")
    def household(self, token):
        return token.data_source.household

    def get_readonly_fields(self, request, obj=None):
        # Which source a token writes to is fixed once the secret is out.
        return [*self.readonly_fields, "data_source"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        obj.created_by = request.user
        secret = obj.set_new_secret()
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            f"The secret of “{obj.name}” is {secret} — copy it now: it is stored only as a hash and "
            "cannot be shown again.",
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
