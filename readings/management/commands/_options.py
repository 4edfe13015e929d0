"""Options that the import and export commands share."""

import zoneinfo

from django.core.management.base import CommandError

from sources.models import DataSource


def add_source_argument(parser):
    parser.add_argument("--source", type=int, required=True, metavar="ID", help="id of the data source")


def source_or_error(source_id):
    try:
        return DataSource.objects.select_related("household").get(pk=source_id)
    except DataSource.DoesNotExist:
        raise CommandError(f"There is no data source with id {source_id}.") from None


def timezone_or_error(name, source):
    """The zone for timestamps written without an offset: `name`, or else the source's household's."""
    if not name:
        return source.household.tzinfo
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CommandError(f"'{name}' is not a known IANA time zone, e.g. 'Europe/Berlin'.") from None
