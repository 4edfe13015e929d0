import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from readings.models import Reading
from readings.services import delete_readings
from readings.tests.factories import ReadingFactory
from readings.tests.helpers import stored
from sources.tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)

GOOD_AND_BAD = (
    "timestamp,energy\n"
    "2025-03-01T12:00:00Z,1.5\n"
    "2025-03-01T13:00:00Z,lots\n"
    "2025-03-01T14:00:00Z,2.5,9\n"
    "2025-03-01 15:00,3\n"
    "2025-03-01T16:00:00Z,NaN\n"
    "2025-03-01T12:00:00Z,1.5\n"
)


@pytest.fixture
def source(household):
    return DataSourceFactory(household=household, name="Main meter")


def run(command, *args, **options):
    out = io.StringIO()
    call_command(command, *args, no_progress=True, stdout=out, **options)
    return out.getvalue()


def test_import_stores_the_good_rows_reports_the_bad_and_a_rerun_stores_nothing(source, tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text(GOOD_AND_BAD)
    skipped = tmp_path / "skipped.csv"

    output = run("import_readings", str(path), source=source.pk, batch_size=2, skipped=str(skipped))
    assert output == (
        f"Imported into “Main meter” (#{source.pk}): 2 created, 1 already stored, 3 skipped.\n"
        "Skipped rows:\n"
        "  line 3: Value of 'energy' must be a number, not 'lots'.\n"
        "  line 4: Expected 2 fields (timestamp,energy), found 3.\n"
        "  line 6: Value of 'energy' must be a finite number, not nan.\n"
    )
    # The household is in Europe/Berlin: a time without an offset is local.
    assert stored(source) == [
        ("2025-03-01T12:00:00+00:00", {"energy": 1.5}),
        ("2025-03-01T14:00:00+00:00", {"energy": 3}),
    ]
    assert skipped.read_text().splitlines() == [
        "line,reason",
        "3,\"Value of 'energy' must be a number, not 'lots'.\"",
        '4,"Expected 2 fields (timestamp,energy), found 3."',
        "6,\"Value of 'energy' must be a finite number, not nan.\"",
    ]

    again = run("import_readings", str(path), source=source.pk)
    assert (
        again.splitlines()[0]
        == f"Imported into “Main meter” (#{source.pk}): 0 created, 3 already stored, 3 skipped."
    )
    assert len(stored(source)) == 2


def test_import_takes_naive_times_in_the_given_time_zone(source, tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text("timestamp,energy\n2025-03-01 15:00,3\n")
    run("import_readings", str(path), source=source.pk, timezone="America/New_York")
    assert stored(source) == [("2025-03-01T20:00:00+00:00", {"energy": 3})]


def test_import_shows_at_most_twenty_skipped_rows(source, tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text(
        "timestamp,energy\n" + "".join(f"2025-03-01T12:{minute:02}:00Z,x\n" for minute in range(25))
    )
    output = run("import_readings", str(path), source=source.pk)
    lines = output.splitlines()
    assert lines[0].endswith("0 created, 0 already stored, 25 skipped.")
    assert len(lines) == 1 + 1 + 20 + 1
    assert lines[-1] == "  … and 5 more."


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        (
            "timestamp,gas\n",
            {},
            "The CSV header names 'gas', which this source does not measure; its metrics are: energy. "
            "A column of a metric removed from the source (an export keeps their values) imports once the "
            "metric is added back to the source.",
        ),
        (
            "timestamp,energy\n",
            {"timezone": "Mars/Olympus"},
            "'Mars/Olympus' is not a known IANA time zone, e.g. 'Europe/Berlin'.",
        ),
        (
            b"timestamp,energy\n2025-03-01T12:00:00Z,\xff\n",
            {},
            "The file is not UTF-8 text: invalid start byte after byte 0.",
        ),
    ],
)
def test_import_refuses_a_file_it_cannot_read(source, tmp_path, content, options, message):
    path = tmp_path / "readings.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(CommandError) as exc:
        run("import_readings", str(path), source=source.pk, **options)
    assert str(exc.value) == message
    assert Reading.objects.count() == 0


def test_import_needs_an_existing_source_and_file(tmp_path):
    with pytest.raises(CommandError) as exc:
        run("import_readings", str(tmp_path / "missing.csv"), source=999999)
    assert str(exc.value) == "There is no data source with id 999999."
    source = DataSourceFactory()
    with pytest.raises(CommandError) as exc:
        run("import_readings", str(tmp_path / "missing.csv"), source=source.pk)
    assert str(exc.value) == f"Cannot read {tmp_path / 'missing.csv'}: No such file or directory."


def test_export_writes_the_sources_readings_oldest_first_within_the_range(source, tmp_path):
    first = ReadingFactory(data_source=source, timestamp=T0 + dt.timedelta(hours=1), values={"energy": 2.5})
    second = ReadingFactory(data_source=source, timestamp=T0, values={"energy": 1})
    third = ReadingFactory(data_source=source, timestamp=T0 + dt.timedelta(hours=2), values={"energy": 3})
    ReadingFactory(timestamp=T0, values={"energy": 99})

    output = run("export_readings", source=source.pk, end="2025-03-01T15:00:00+01:00")
    assert output == (
        "id,timestamp,energy\n"
        f"{second.pk},2025-03-01T12:00:00+00:00,1\n"
        f"{first.pk},2025-03-01T13:00:00+00:00,2.5\n"
    )
    path = tmp_path / "out.csv"
    # Without an offset, --start is in the household's time zone (UTC+1 in March).
    run("export_readings", source=source.pk, output=str(path), start="2025-03-01 14:00")
    assert path.read_text().splitlines()[1:] == [
        f"{first.pk},2025-03-01T13:00:00+00:00,2.5",
        f"{third.pk},2025-03-01T14:00:00+00:00,3",
    ]


def test_export_then_import_round_trips(source, tmp_path):
    for hour in range(3):
        ReadingFactory(
            data_source=source, timestamp=T0 + dt.timedelta(hours=hour), values={"energy": hour / 3}
        )
    before = sorted(Reading.objects.values_list("id", "timestamp", "values"))
    path = tmp_path / "out.csv"
    run("export_readings", source=source.pk, output=str(path))
    delete_readings(Reading.objects.all())
    output = run("import_readings", str(path), source=source.pk)
    assert output.endswith("3 created, 0 already stored, 0 skipped.\n")
    assert sorted(Reading.objects.values_list("id", "timestamp", "values")) == before
