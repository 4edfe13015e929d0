import contextlib
import csv
import gc
import io
import sys
import threading
from queue import Empty, Queue

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from readings.csv_format import CsvHeaderError, read_csv_batches
from readings.management.commands._options import add_source_argument, source_or_error, timezone_or_error
from readings.services import SourceGone, prepare_readings, store_readings

SHOWN_SKIPS = 20
STORER_SWITCH_INTERVAL_SECONDS = 0.0005
# Other code makes a few hundred objects in cycles over a million rows: collecting them is no hurry.
COLLECT_EVERY_BATCHES = 250


class Command(BaseCommand):
    help = (
        "Import the readings of one data source from a CSV file whose header row names 'timestamp', the "
        "metrics and optionally 'id'. Rows already stored are left alone, so the same file can be imported "
        "again; rows that cannot be stored are skipped and reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file, or - for standard input")
        add_source_argument(parser)
        parser.add_argument(
            "--timezone",
            help="IANA time zone of timestamps written without an offset (default: the household's)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=10_000, help="rows stored per transaction (default 10000)"
        )
        parser.add_argument(
            "--skipped", metavar="FILE", help="write every skipped row, with why, to this CSV"
        )
        parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")

    def handle(self, *args, **options):
        source = source_or_error(options["source"])
        zone = timezone_or_error(options["timezone"], source)
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        raw = sys.stdin.buffer if options["file"] == "-" else self._open(options["file"])
        skipped_file = open(options["skipped"], "w", newline="") if options["skipped"] else None  # noqa: SIM115
        try:
            with tuned_for_parsing_while_storing():
                totals, shown, skips = self._import(raw, source, zone, options, skipped_file)
        finally:
            if raw is not sys.stdin.buffer:
                raw.close()
            if skipped_file:
                skipped_file.close()

        created, existing = totals
        self.stdout.write(
            f"Imported into “{source.name}” (#{source.pk}): {created} created, {existing} already stored, "
            f"{skips} skipped."
        )
        if shown:
            self.stdout.write("Skipped rows:")
            for line, reason in shown:
                self.stdout.write(f"  line {line}: {reason}")
            if skips > len(shown):
                more = f"  … and {skips - len(shown)} more"
                self.stdout.write(more + (f" (all in {options['skipped']})." if skipped_file else "."))

    def _open(self, path):
        try:
            return open(path, "rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None

    def _import(self, raw, source, zone, options, skipped_file):
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        seekable = raw.seekable()
        total = raw.seek(0, io.SEEK_END) if seekable else None
        if seekable:
            raw.seek(0)
        bar = tqdm(
            total=total,
            unit="B" if seekable else " rows",
            unit_scale=True,
            desc=f"Importing into {source.name}",
            disable=True if options["no_progress"] else None,
            file=sys.stderr,
        )
        skip_writer = csv.writer(skipped_file) if skipped_file else None
        if skip_writer:
            skip_writer.writerow(["line", "reason"])
        created = existing = skips = 0
        shown = []
        done = 0
        batches = (
            (lines, prepare_readings(source, items, tzinfo=zone), raw.tell() if seekable else None)
            for lines, items in read_csv_batches(text, source.metrics, options["batch_size"])
        )
        try:
            # Reading, parsing and validating the next batch overlaps with the database storing this one.
            for number, (lines, batch, position) in enumerate(read_ahead(batches), start=1):
                result = store_readings(batch, partial=True)
                created += result.created
                existing += result.existing
                for index, errors in result.errors.items():
                    skips += 1
                    reason = " ".join(message for messages in errors.values() for message in messages)
                    if len(shown) < SHOWN_SKIPS:
                        shown.append((lines[index], reason))
                    if skip_writer:
                        skip_writer.writerow([lines[index], reason])
                position = position if seekable else done + len(lines)
                bar.update(position - done)
                done = position
                bar.set_postfix(created=created, existing=existing, skipped=skips, refresh=False)
                if number % COLLECT_EVERY_BATCHES == 0:
                    gc.collect()
        except CsvHeaderError as exc:
            raise CommandError(str(exc)) from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"The file is not UTF-8 text: {exc.reason} after byte {done}.") from None
        except SourceGone:
            raise CommandError(
                f"Source {source.pk} was deleted during the import, with the {created} readings stored."
            ) from None
        finally:
            bar.close()
        return (created, existing), shown, skips


@contextlib.contextmanager
def tuned_for_parsing_while_storing():
    """Two interpreter settings for the length of an import, measured to matter at a million rows.

    The reading thread holds the GIL while it parses, and the storing thread needs it back after each round
    trip to the database: with Python's 5 ms switch interval each of those waits leaves the database idle.
    And the rows in flight are a few hundred thousand objects without reference cycles, which the cyclic
    collector would otherwise walk again and again (a fifth of the import's CPU); it runs every
    COLLECT_EVERY_BATCHES batches instead, for whatever cycles other code makes.
    """
    switch_interval = sys.getswitchinterval()
    was_collecting = gc.isenabled()
    sys.setswitchinterval(STORER_SWITCH_INTERVAL_SECONDS)
    gc.disable()
    try:
        yield
    finally:
        sys.setswitchinterval(switch_interval)
        if was_collecting:
            gc.enable()


def read_ahead(iterable, depth=2):
    """Yield from `iterable`, which a thread runs up to `depth` items ahead; its exceptions come through.

    The thread does pure Python work (CSV parsing) while the caller waits on the database, which releases
    the GIL, so the two overlap on two cores.
    """
    done = object()
    queue = Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for item in iterable:
                if stop.is_set():
                    return
                queue.put((item, None))
            queue.put((done, None))
        except BaseException as exc:
            queue.put((done, exc))

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = queue.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        # Unblock a producer waiting for room, then let it end.
        while thread.is_alive():
            with contextlib.suppress(Empty):
                queue.get(timeout=0.1)
        thread.join()
