import django_filters
from django import forms

from homelog.ids import LARGEST_ID
from sources.models import DataSource, SourceType


class IdFilter(django_filters.NumberFilter):
    """An id: a whole number within the database's ids, so that the query never sees one it cannot bind
    (NumberFilter takes any decimal, and 1.5e304 overflowed SQLite's driver)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", LARGEST_ID)
        super().__init__(*args, **kwargs)


class DataSourceFilterSet(django_filters.FilterSet):
    household = IdFilter(field_name="household_id", help_text="A household's id.")
    type = django_filters.ChoiceFilter(choices=SourceType.choices)
    # A typed choice rather than a BooleanFilter, which quietly ignores a value it does not understand.
    active = django_filters.TypedChoiceFilter(
        field_name="is_active",
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
    )
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=120, help_text="Part of the name, any case."
    )

    class Meta:
        model = DataSource
        fields = ["household", "type", "active", "search"]
