import datetime as dt

import django_filters
from django import forms
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation

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

    def moment(self, value):
        """The aware moment the form's `value` stands for."""
        tzinfo = getattr(self.parent, "tzinfo", dt.UTC)
        return aware_moment(value, tzinfo, self.date_means_end_of_day)

    def filter(self, qs, value):
        if value is None:
            return qs
        return super().filter(qs, self.moment(value))


class LocalTimeFilterSet(django_filters.FilterSet):
    """A FilterSet whose naive moments are read in `tzinfo` (given by the view, e.g. the household's)."""

    def __init__(self, *args, tzinfo=dt.UTC, **kwargs):
        self.tzinfo = tzinfo
        super().__init__(*args, **kwargs)


def _applies_its_lookup(filter_, value):
    """Whether `filter_` filters on `field_name__lookup_expr` = `value`, as django-filter's Filter does."""
    if filter_.exclude:
        return False
    if isinstance(filter_, django_filters.ChoiceFilter):
        # Its own filter() differs only for the choice meaning "null".
        return type(filter_).filter is django_filters.ChoiceFilter.filter and value != filter_.null_value
    return type(filter_).filter is django_filters.Filter.filter


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, passing the view's `filter_timezone()` to a LocalTimeFilterSet."""

    def filter_queryset(self, request, queryset, view):
        # Building the FilterSet and its form costs as much as a query: most list requests (a device polling,
        # the first page of a list) filter on nothing, and then it would change nothing.
        if not self.filters_asked_for(request, queryset, view):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def filters_asked_for(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        return filterset_class is not None and any(
            param.startswith(name) for param in request.query_params for name in filterset_class.base_filters
        )

    def lookups(self, request, queryset, view):
        """What filter_queryset() would do, for a view that runs its query itself: ``({filter name: (lookup,
        value)}, ordering or None)``, e.g. ``({"start": ("timestamp__gte", moment)}, ["-timestamp"])``.

        Bad values raise the same 400 as filter_queryset(). MomentFilters, an OrderingFilter, and filters that
        apply their lookup to the value as it is (django-filter's own Filter.filter, not excluding).
        """
        if not self.filters_asked_for(request, queryset, view):
            return {}, None
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        lookups, ordering = {}, None
        for name, value in filterset.form.cleaned_data.items():
            filter_ = filterset.filters[name]
            if value in EMPTY_VALUES:
                continue
            if isinstance(filter_, django_filters.OrderingFilter):
                ordering = [filter_.get_ordering_value(param) for param in value]
            elif isinstance(filter_, MomentFilter):
                lookups[name] = (f"{filter_.field_name}__{filter_.lookup_expr}", filter_.moment(value))
            elif _applies_its_lookup(filter_, value):
                lookups[name] = (f"{filter_.field_name}__{filter_.lookup_expr}", value)
            else:
                raise TypeError(f"{type(filter_).__name__} {name!r} has no lookup for a compiled statement")
        return lookups, ordering

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
