import time

from django.core.management.base import BaseCommand, CommandError

from readings.models import HourlyRollup
from readings.usage import rollup
from sources.models import DataSource


class Command(BaseCommand):
    help = (
        "Compute the hourly usage rollups of data sources afresh from their readings: after readings were "
        "written past the model (a raw COPY or INSERT, bulk_create), and once after deploying the release "
        "that added the rollups, for readings that the previous release stored while the migration ran. "
        "Each source is rebuilt in its own transaction; running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            type=int,
            action="append",
            metavar="ID",
            help="id of a data source (repeat for more); default: every source",
        )

    def handle(self, *args, source=None, **options):
        sources = DataSource.objects.order_by("pk")
        if source:
            sources = sources.filter(pk__in=source)
        source_ids = list(sources.values_list("pk", flat=True))
        if source and len(source_ids) < len(set(source)):
            missing = ", ".join(str(pk) for pk in sorted(set(source) - set(source_ids)))
            raise CommandError(f"There is no data source with id {missing}.")
        started = time.perf_counter()
        for source_id in source_ids:
            rollup.rebuild([source_id])
        seconds = time.perf_counter() - started
        rows = HourlyRollup.objects.filter(data_source_id__in=source_ids).count()
        self.stdout.write(
            f"Rebuilt the usage rollups of {len(source_ids)} source{'s' if len(source_ids) != 1 else ''}: "
            f"{rows} hourly rows in {seconds:.2f} s."
        )
