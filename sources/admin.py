from django.contrib import admin

from sources.models import DataSource


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
