import datetime as dt

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend

from homelog.api.moments import EXAMPLE, aware_moment, parse_moment


class MomentFormField(forms.Field):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_moment(value)


class MomentFilter(django_filters.Filter):
    """An ISO 8601 date or date-time; one without an offset is read in the FilterSet's time zone."""

    field_class = MomentFormField

    def __init__(self, *args, date_means_end_of_day=False, **kwargs):
        self.date_means_end_of_day = date_means_end_of_day
        kwargs.setdefault(
            "help_text", f"ISO 8601 ({EXAMPLE}); without an offset, in the household's time zone."
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        tzinfo = getattr(self.parent, "tzinfo", dt.UTC)
        return super().filter(qs, aware_moment(value, tzinfo, self.date_means_end_of_day))


class LocalTimeFilterSet(django_filters.FilterSet):
    """A FilterSet whose naive moments are read in `tzinfo` (given by the view, e.g. the household's)."""

    def __init__(self, *args, tzinfo=dt.UTC, **kwargs):
        self.tzinfo = tzinfo
        super().__init__(*args, **kwargs)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, passing the view's `filter_timezone()` to a LocalTimeFilterSet."""

    def filter_queryset(self, request, queryset, view):
        # Building the FilterSet and its form costs as much as a query: most list requests (a device polling,
        # the next page of a chart) filter on nothing, and then it would change nothing.
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            param.startswith(name) for param in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if (
            filterset_class
            and issubclass(filterset_class, LocalTimeFilterSet)
            and hasattr(view, "filter_timezone")
        ):
            kwargs["tzinfo"] = view.filter_timezone()
        return kwargs
