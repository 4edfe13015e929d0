import django_filters

from sources.models import DataSource, SourceType


class DataSourceFilterSet(django_filters.FilterSet):
    household = django_filters.NumberFilter(field_name="household_id", help_text="A household's id.")
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
