import contextlib
import functools
import operator

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, Sum
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
from sources.models import DataSource


class ReadingsPaginator(Paginator):
    """Pages of readings that read no more than a page of the table, at any page of millions.

    A page is found by its keys first, (source, timestamp), which both of the readings' indexes hold: the
    skipped rows of a deep page are index entries, not table rows. The page's readings are then read by
    those keys. The count is one the sources keep (`reading_count`) where the filter allows, else a count
    bounded to a few pages past the one asked for.
    """

    def __init__(self, object_list, per_page, *, known_count=None, count_bound=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count, self.count_bound = known_count, count_bound

    @cached_property
    def count(self):
        if self.known_count is not None:
            return self.known_count
        keys = self.object_list.order_by().values("data_source_id", "timestamp")
        return keys[: self.count_bound].count() if self.count_bound else keys.count()

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        keys = list(
            self.object_list.values_list("data_source_id", "timestamp")[bottom : bottom + self.per_page]
        )
        if not keys:
            return self._get_page([], number, self)
        by_key = functools.reduce(
            operator.or_, (Q(data_source_id=source, timestamp=moment) for source, moment in keys)
        )
        # By the keys alone: the list's filters chose them already, and repeated here they would make the
        # database read the rows of every key's time to filter them again.
        rows = self.object_list.model._default_manager.filter(by_key).order_by(
            *self.object_list.query.order_by
        )
        rows.query.select_related = self.object_list.query.select_related
        return self._get_page(list(rows), number, self)


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "data_source", "household", "values", "created_by", "created_at"]
    list_filter = ["data_source__household", "data_source", ("timestamp", admin.DateFieldListFilter)]
    search_fields = ["data_source__name"]
    # Newest first, and of one time by source: the (timestamp, source) index serves it, and as the two make a
    # reading unique Django adds no id to the order. No date_hierarchy: its year links scan the table; the
    # timestamp filter reads a range of the index instead.
    ordering = ["-timestamp", "-data_source_id"]
    raw_id_fields = ["data_source", "created_by"]
    list_select_related = ["data_source__household", "created_by"]
    readonly_fields = ["created_at"]
    show_full_result_count = False
    paginator = ReadingsPaginator
    list_per_page = 100

    # The parameters of the changelist that are no filter.
    NOT_FILTERS = {"p", "o", "all", "_changelist_filters", "e"}

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        filters = {name: value for name, value in request.GET.items() if name not in self.NOT_FILTERS}
        sources = DataSource.objects.all()
        known = None
        try:
            if not filters:
                known = sources.aggregate(total=Sum("reading_count"))["total"] or 0
            elif set(filters) == {"data_source__id__exact"}:
                known = sum(
                    sources.filter(pk=int(filters["data_source__id__exact"])).values_list(
                        "reading_count", flat=True
                    )
                )
            elif set(filters) == {"data_source__household__id__exact"}:
                household = int(filters["data_source__household__id__exact"])
                known = (
                    sources.filter(household_id=household).aggregate(total=Sum("reading_count"))["total"] or 0
                )
        except (TypeError, ValueError):
            known = None  # a filter Django will refuse itself
        try:
            page = max(1, int(request.GET.get("p", 1)))
        except ValueError:
            page = 1
        return self.paginator(
            queryset,
            per_page,
            known_count=known,
            count_bound=(page + 10) * per_page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )

    def get_search_results(self, request, queryset, search_term):
        # By the sources whose name matches, looked up first: the readings are then filtered by source ids,
        # which their indexes hold, rather than joined to every source row.
        if not search_term:
            return queryset, False
        names = DataSource.objects.filter(name__icontains=search_term.strip())
        return queryset.filter(data_source_id__in=list(names.values_list("pk", flat=True))), False

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
