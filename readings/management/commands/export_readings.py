import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from readings.csv_format import export_metric_names, export_rows, iter_csv_chunks
from readings.management.commands._options import add_source_argument, source_or_error, timezone_or_error
from readings.models import Reading


class Command(BaseCommand):
    help = (
        "Write the readings of one data source as CSV (id, timestamp, one column per metric), oldest first; "
        "import_readings reads the file back exactly."
    )

    def add_arguments(self, parser):
        add_source_argument(parser)
        parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
        parser.add_argument("--start", help="only readings at or after this ISO 8601 time")
        parser.add_argument("--end", help="only readings before this ISO 8601 time")
        parser.add_argument(
            "--timezone", help="IANA time zone of --start/--end without an offset (default: the household's)"
        )
        parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")

    def handle(self, *args, **options):
        source = source_or_error(options["source"])
        zone = timezone_or_error(options["timezone"], source)
        readings = Reading.objects.of_source(source).between(
            self._moment(options["start"], "--start", zone), self._moment(options["end"], "--end", zone)
        )
        bar = tqdm(
            total=readings.count(),
            unit=" rows",
            unit_scale=True,
            desc=f"Exporting {source.name}",
            disable=True if options["no_progress"] else None,
            file=sys.stderr,
        )
        output = open(options["output"], "w", newline="") if options["output"] else self.stdout  # noqa: SIM115
        try:
            chunks = iter_csv_chunks(export_rows(readings), export_metric_names(source, readings))
            output.write(next(chunks))
            for chunk in chunks:
                output.write(chunk)
                # One line per reading: nothing written can hold a line break.
                bar.update(chunk.count("\n"))
        finally:
            bar.close()
            if options["output"]:
                output.close()

    @staticmethod
    def _moment(value, option, zone):
        if not value:
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"{option} must be an ISO 8601 date and time, not {value!r}.") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
