import datetime as dt
import io
import uuid

import pytest

from readings.csv_format import CsvHeaderError, export_rows, iter_csv_chunks, read_csv_batches
from readings.models import Reading
from readings.services import InvalidItem, delete_readings, ingest_readings
from readings.tests.factories import ReadingFactory
from sources.tests.factories import DataSourceFactory

METRICS = {"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}}
T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def items_of(text, size=2):
    """(line, item or message) of every row, read in batches of `size`."""
    return [
        (line, item.message if isinstance(item, InvalidItem) else item)
        for lines, items in read_csv_batches(io.StringIO(text, newline=""), METRICS, size)
        for line, item in zip(lines, items, strict=True)
    ]


def test_rows_become_items_with_numbers_and_without_empty_cells():
    text = (
        "timestamp,energy,power\n"
        "2025-03-01T12:00:00Z,1.5,300\n"
        "2025-03-01T13:00:00Z,,-2.5e3\n"
        "\n"
        "2025-03-01T14:00:00,0.30000000000000004,\n"
    )
    assert items_of(text) == [
        (2, {"timestamp": "2025-03-01T12:00:00Z", "values": {"energy": 1.5, "power": 300}}),
        (3, {"timestamp": "2025-03-01T13:00:00Z", "values": {"power": -2500.0}}),
        (5, {"timestamp": "2025-03-01T14:00:00", "values": {"energy": 0.30000000000000004}}),
    ]


def test_an_id_column_is_optional_and_may_be_empty():
    text = (
        "id,timestamp,energy\n"
        "0193a0e2-0000-7000-8000-00000000000a,2025-03-01T12:00:00Z,1\n"
        ",2025-03-01T13:00:00Z,2\n"
    )
    assert items_of(text) == [
        (
            2,
            {
                "id": "0193a0e2-0000-7000-8000-00000000000a",
                "timestamp": "2025-03-01T12:00:00Z",
                "values": {"energy": 1},
            },
        ),
        (3, {"timestamp": "2025-03-01T13:00:00Z", "values": {"energy": 2}}),
    ]


def test_malformed_rows_are_reported_with_their_line():
    text = (
        "timestamp,energy\n"
        "2025-03-01T12:00:00Z,1,2\n"
        "2025-03-01T13:00:00Z\n"
        '2025-03-01T14:00:00Z,"3"x\n'
        "2025-03-01T15:00:00Z,4\n"
    )
    assert items_of(text) == [
        (2, "Expected 2 fields (timestamp,energy), found 3."),
        (3, "Expected 2 fields (timestamp,energy), found 1."),
        (4, "Malformed CSV row: ',' expected after '\"'."),
        (5, {"timestamp": "2025-03-01T15:00:00Z", "values": {"energy": 4}}),
    ]


def test_cells_that_are_not_numbers_reach_validation_as_they_are():
    text = "timestamp,energy\nt,NaN\nt,-Infinity\nt,true\nt,lots\nt,1_000\n"
    assert [item["values"]["energy"] for _, item in items_of(text)[:2]] == pytest.approx(
        [float("nan"), float("-inf")], nan_ok=True
    )
    assert [item["values"]["energy"] for _, item in items_of(text)[2:]] == [True, "lots", "1_000"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "The CSV is empty: it needs a header row such as 'timestamp,energy'."),
        (
            "time,energy\n",
            "The CSV header has no 'timestamp' column; this source's metrics are: energy, power.",
        ),
        (
            "timestamp,energy,gas\n",
            "The CSV header names 'gas', which this source does not measure; its metrics are: energy, power. "
            "A column of a metric removed from the source (an export keeps their values) imports once the "
            "metric is added back to the source.",
        ),
        ("timestamp,energy,energy\n", "The CSV header names 'energy' more than once."),
        ("timestamp,id\n", "The CSV header names no metric; this source's metrics are: energy, power."),
    ],
)
def test_a_bad_header_refuses_the_whole_file(header, message):
    with pytest.raises(CsvHeaderError) as exc:
        items_of(header + "2025-03-01T12:00:00Z,1\n" if header else "")
    assert str(exc.value) == message


def test_chunks_hold_a_header_and_one_line_per_reading():
    rows = [
        (uuid.UUID(int=1), T0, {"energy": 1.5, "power": 2}),
        (uuid.UUID(int=2), T0.astimezone(dt.timezone(dt.timedelta(hours=1))), {"power": 0.1}),
    ]
    assert "".join(iter_csv_chunks(rows, ["energy", "power"])) == (
        "id,timestamp,energy,power\n"
        "00000000-0000-0000-0000-000000000001,2025-03-01T12:00:00+00:00,1.5,2\n"
        "00000000-0000-0000-0000-000000000002,2025-03-01T12:00:00+00:00,,0.1\n"
    )


@pytest.mark.django_db
def test_export_then_import_round_trips_exactly():
    source = DataSourceFactory(metrics=METRICS)
    values = [
        {"energy": 1234.5, "power": 7},
        {"energy": 0.1 + 0.2},
        {"power": -1e-7},
        {"energy": 12345678901234, "power": 2.0},
    ]
    for hour, reading_values in enumerate(values):
        ReadingFactory(
            data_source=source,
            timestamp=T0 + dt.timedelta(hours=hour, microseconds=hour * 1001),
            values=reading_values,
        )
    before = sorted(Reading.objects.values_list("id", "data_source_id", "timestamp", "values"))
    text = "".join(iter_csv_chunks(export_rows(Reading.objects.of_source(source)), source.metric_names))

    delete_readings(Reading.objects.all())
    [(_, items)] = read_csv_batches(io.StringIO(text, newline=""), source.metrics, 10)
    result = ingest_readings(source, items)
    assert (result.created, result.errors) == (4, {})
    assert sorted(Reading.objects.values_list("id", "data_source_id", "timestamp", "values")) == before
    again = ingest_readings(source, items)
    assert (again.created, again.existing) == (0, 4)
