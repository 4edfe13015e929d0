"""The CSV form of a source's readings: a header row of ``id``, ``timestamp`` and one column per metric, then
one row per reading. Export writes it and import reads it back, so that the two round-trip exactly.

Parsing uses Python's csv module in strict mode and works row by row, so a file of any length is read
with flat memory. Numbers are written and read as JSON numbers (orjson), which keeps every float exact.
"""

import csv
import datetime as dt

import orjson
from django.db import connection

from readings.services import InvalidItem

ID = "id"
TIMESTAMP = "timestamp"
# Lines of output gathered into one chunk of a streamed response.
LINES_PER_CHUNK = 1000

_NOT_FINITE = frozenset({"nan", "inf", "infinity"})


class CsvHeaderError(ValueError):
    """The header row cannot be read against the source's metrics; no row of the file is usable."""


def read_csv_batches(lines, metrics, size):
    """Yield (line numbers, items) for every `size` data rows of `lines` (an iterable of text lines).

    Items are what `ingest_readings` takes; a row that cannot be read is an InvalidItem saying why.
    Raises CsvHeaderError when the header names no timestamp column or a metric the source does not have.
    """
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvHeaderError("The CSV is empty: it needs a header row such as 'timestamp,energy'.") from None
    except csv.Error as exc:
        raise CsvHeaderError(f"The CSV header row cannot be read: {exc}.") from None
    id_column, timestamp_column, metric_columns = _columns(header, metrics)
    width = len(header)
    loads = orjson.loads

    numbers, items = [], []
    while True:
        # The loop runs once per row of a file of any length: one frame, no call per cell when all is well.
        try:
            for row in reader:
                if len(row) == width:
                    try:
                        values = {name: loads(row[column]) for name, column in metric_columns if row[column]}
                    except orjson.JSONDecodeError:
                        values = {
                            name: _number(row[column]) for name, column in metric_columns if row[column]
                        }
                    item = {TIMESTAMP: row[timestamp_column], "values": values}
                    if id_column is not None and row[id_column]:
                        item[ID] = row[id_column]
                elif not row:
                    continue
                else:
                    item = InvalidItem(f"Expected {width} fields ({','.join(header)}), found {len(row)}.")
                numbers.append(reader.line_num)
                items.append(item)
                if len(items) == size:
                    yield numbers, items
                    numbers, items = [], []
            break
        except csv.Error as exc:
            # The reader goes on with the next line.
            numbers.append(reader.line_num)
            items.append(InvalidItem(f"Malformed CSV row: {exc}."))
            if len(items) == size:
                yield numbers, items
                numbers, items = [], []
    if items:
        yield numbers, items


def _columns(header, metrics):
    names = [name.strip() for name in header]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CsvHeaderError(f"The CSV header names {', '.join(map(repr, duplicates))} more than once.")
    known = ", ".join(sorted(metrics))
    if TIMESTAMP not in names:
        raise CsvHeaderError(f"The CSV header has no 'timestamp' column; this source's metrics are: {known}.")
    unknown = [name for name in names if name not in (ID, TIMESTAMP) and name not in metrics]
    if unknown:
        raise CsvHeaderError(
            f"The CSV header names {', '.join(map(repr, unknown))}, which this source does not measure; "
            f"its metrics are: {known}. A column of a metric removed from the source (an export keeps their "
            "values) imports once the metric is added back to the source."
        )
    metric_columns = [(name, column) for column, name in enumerate(names) if name in metrics]
    if not metric_columns:
        raise CsvHeaderError(f"The CSV header names no metric; this source's metrics are: {known}.")
    return names.index(ID) if ID in names else None, names.index(TIMESTAMP), metric_columns


def _number(cell):
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError:
        if cell.strip().lstrip("+-").lower() in _NOT_FINITE:
            # A float, so that validation says "must be a finite number" rather than "a number".
            return float(cell)
        return cell


def _format_number(value):
    return "" if value is None else orjson.dumps(value).decode()


class _Echo:
    """A file-like object whose write() returns what it is given, for csv.writer to format one line."""

    def write(self, line):
        return line


def iter_csv_chunks(rows, metric_names):
    """Yield the CSV text of (id, timestamp, values) rows in chunks of LINES_PER_CHUNK lines.

    Timestamps are written in UTC with their offset, so that import reads them back as the same instants.
    """
    format_line = csv.writer(_Echo(), lineterminator="\n").writerow
    yield format_line([ID, TIMESTAMP, *metric_names])
    utc = dt.UTC
    lines = []
    for reading_id, timestamp, values in rows:
        lines.append(
            format_line(
                [
                    str(reading_id),
                    timestamp.astimezone(utc).isoformat(),
                    *[_format_number(values.get(name)) for name in metric_names],
                ]
            )
        )
        if len(lines) == LINES_PER_CHUNK:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def export_metric_names(source, readings):
    """The metric columns of an export of `readings` (a queryset of `source`'s readings): the source's
    metrics, then those that some of the readings still have values for although the source no longer
    measures them, so that removing a metric never drops stored values from an export.

    One query that reads the names of the readings' values, in the database; the rows themselves are read
    once more by the export.
    """
    current = source.metric_names
    sql, params = readings.order_by().values("values").query.sql_with_params()
    if connection.vendor == "postgresql":
        names = f'SELECT DISTINCT jsonb_object_keys(r."values") FROM ({sql}) r'
    else:
        names = f'SELECT DISTINCT j.key FROM ({sql}) r, json_each(r."values") j'
    with connection.cursor() as cursor:
        cursor.execute(names, params)
        present = {name for (name,) in cursor.fetchall()}
    return [*current, *sorted(present.difference(current))]


def export_rows(readings):
    """The (id, timestamp, values) rows of a Reading queryset, oldest first, fetched in chunks."""
    return readings.order_by("timestamp").values_list("id", "timestamp", "values").iterator(chunk_size=5000)
