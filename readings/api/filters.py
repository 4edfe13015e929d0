import django_filters

from homelog.api.filters import LocalTimeFilterSet, MomentFilter
from readings.models import Reading


class ReadingFilterSet(LocalTimeFilterSet):
    start = MomentFilter(
        field_name="timestamp", lookup_expr="gte", help_text="Readings at or after this moment."
    )
    end = MomentFilter(
        field_name="timestamp",
        lookup_expr="lt",
        date_means_end_of_day=True,
        help_text="Readings before this moment; a date alone includes that whole day.",
    )
    # The keys of the Link header's next page: rows strictly past the last one already seen.
    before = MomentFilter(
        field_name="timestamp", lookup_expr="lt", help_text="Readings strictly before (paging)."
    )
    after = MomentFilter(
        field_name="timestamp", lookup_expr="gt", help_text="Readings strictly after (paging)."
    )
    ordering = django_filters.OrderingFilter(
        fields=["timestamp"], help_text="-timestamp (newest first, the default) or timestamp (oldest first)."
    )

    class Meta:
        model = Reading
        fields = ["start", "end", "before", "after"]
