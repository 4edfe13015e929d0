from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.utils.functional import cached_property

from readings.changes import announce_readings_changed
from readings.models import Reading
from sources.models import DataSource


class EstimatedCountPaginator(Paginator):
    """Pages an unfiltered readings table without a full COUNT(*), which takes seconds at millions of rows.

    On PostgreSQL the planner's row estimate stands in for the exact count when nothing is filtered and the
    table is large; filtered lists and small tables are still counted exactly.
    """

    ESTIMATE_ABOVE_ROWS = 100_000

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor == "postgresql" and not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE_ROWS:
                return row[0]
        return super().count


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "data_source", "household", "values", "created_by", "created_at"]
    list_filter = ["data_source__household", "data_source"]
    search_fields = ["data_source__name"]
    date_hierarchy = "timestamp"
    raw_id_fields = ["data_source", "created_by"]
    list_select_related = ["data_source__household", "created_by"]
    readonly_fields = ["created_at"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100

    @admin.display(description="household", ordering="data_source__household__name")
    def household(self, reading):
        return reading.data_source.household

    def delete_queryset(self, request, queryset):
        source_ids = set(queryset.values_list("data_source_id", flat=True).distinct())
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            DataSource.objects.filter(pk__in=source_ids).recount_readings()
            announce_readings_changed(source_ids)
