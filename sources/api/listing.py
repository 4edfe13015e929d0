"""The sources as the API lists them and shows one, from one compiled statement and without a serializer
per row: building and compiling the queryset with its access rule and latest reading, then serializing each
source through DRF, were two thirds of the time of an answer. A listed source is exactly what
`DataSourceSerializer` gives for it (sources/tests/test_api_listing.py holds them to that)."""

from django.db.models import IntegerField

from homelog.statements import RequestingUser, Statement
from sources.api.serializers import DataSourceSerializer
from sources.models import DataSource, kinds_of, units_of

COLUMNS = (
    "id",
    "name",
    "description",
    "type",
    "household_id",
    "created_by_id",
    "metrics",
    "price_per_unit",
    "is_active",
    "reading_count",
    "latest_reading_id",
    "latest_reading_timestamp",
    "latest_reading_values",
    "created_at",
    "updated_at",
)

# The serializer's own field renders the price: the same digits, the same string.
PRICE = DataSourceSerializer().fields["price_per_unit"]


def _sources(param, shape):
    """`shape`: ("list", ((filter name, lookup, field name), ...), offset, count) or ("one",)."""
    sources = DataSource.objects.visible_to(RequestingUser(param("user", IntegerField()))).for_api()
    if shape[0] == "one":
        return sources.filter(pk=param("pk", IntegerField())).values_list(*COLUMNS)
    _, lookups, offset, count = shape
    for name, lookup, field_name in lookups:
        sources = sources.filter(**{lookup: param(name, DataSource._meta.get_field(field_name))})
    sources = sources.order_by("household_id", "name", "id").values_list(*COLUMNS)
    return sources[offset : offset + count]


SOURCES = Statement(_sources)


def _listed(
    id,
    name,
    description,
    type,
    household_id,
    created_by_id,
    metrics,
    price_per_unit,
    is_active,
    reading_count,
    latest_reading_id,
    latest_reading_timestamp,
    latest_reading_values,
    created_at,
    updated_at,
):
    # DataSourceSerializer's fields, in its order.
    return {
        "id": id,
        "name": name,
        "description": description,
        "type": type,
        "household": household_id,
        "owner_id": created_by_id,
        "metrics": units_of(metrics),
        "metric_kinds": kinds_of(metrics),
        "price_per_unit": None if price_per_unit is None else PRICE.to_representation(price_per_unit),
        "is_active": is_active,
        "reading_count": reading_count,
        "latest_reading": None
        if latest_reading_id is None
        else {
            "id": str(latest_reading_id),
            "timestamp": latest_reading_timestamp,
            "values": latest_reading_values,
        },
        "created_at": created_at,
        "updated_at": updated_at,
    }


def listed_sources(user, lookups, offset, count):
    """The sources `user` may see, filtered by `lookups` ({filter name: (lookup, value)}), as listed."""
    shape = tuple(sorted((name, lookup, lookup.split("__")[0]) for name, (lookup, _) in lookups.items()))
    values = {name: value for name, (_, value) in lookups.items()}
    rows = SOURCES.run(("list", shape, offset, count), user=user.pk, **values)
    return [_listed(*row) for row in rows]


def listed_source(user, pk):
    """Source `pk` as listed, or None when `user` may not see it."""
    rows = SOURCES.run(("one",), user=user.pk, pk=pk)
    return _listed(*rows[0]) if rows else None
