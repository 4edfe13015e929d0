import contextlib

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections
from django.http import Http404
from django.utils.functional import cached_property

from readings.models import Reading
from readings.services import (
    ReadingGone,
    ReadingsClash,
    SourceGone,
    create_reading,
    delete_reading,
    delete_readings,
    update_reading,
)


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

    # Through the services, as every writer of readings: the counters, rollups and cached usage stay exact.

    def save_model(self, request, obj, form, change):
        fields = {"timestamp": obj.timestamp, "values": obj.values, "created_by": obj.created_by}
        try:
            if change:
                # The form has set its fields on `obj` already; the stored reading says where it was.
                stored = Reading.objects.filter(pk=obj.pk).first()
                if stored is None:
                    raise ReadingGone(obj.pk)
                update_reading(stored, data_source=obj.data_source, **fields)
            else:
                create_reading(obj.data_source, reading_id=obj.pk, **fields)
                obj._state.adding = False
        except ReadingGone:
            raise Http404("This reading was deleted meanwhile.") from None
        except (ReadingsClash, SourceGone) as exc:
            # Between the form's check and the write: say so rather than answer 500.
            raise PermissionDenied(str(exc)) from None

    def delete_model(self, request, obj):
        # Deleted meanwhile: what was asked for is done.
        with contextlib.suppress(ReadingGone):
            delete_reading(obj)

    def delete_queryset(self, request, queryset):
        delete_readings(queryset)
