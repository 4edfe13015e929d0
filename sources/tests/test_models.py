import pytest
from django.core.exceptions import ValidationError

from sources.metrics import validate_metrics, validate_values, values_are_valid
from sources.models import DataSource
from sources.tests.factories import DataSourceFactory

ENERGY = {"energy": {"unit": "kWh", "cumulative": True}}


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({}, 'A data source needs at least one metric, e.g. {"energy": {"unit": "kWh"}}.'),
        ([], 'A data source needs at least one metric, e.g. {"energy": {"unit": "kWh"}}.'),
        (
            {"a" * 65: {"unit": "kWh", "cumulative": True}},
            f"Metric name '{'a' * 65}' is too long: 65 characters, at most 64.",
        ),
        (
            {"Energy": {"unit": "kWh", "cumulative": True}, "energy": {"unit": "Wh", "cumulative": True}},
            "Metric names 'Energy' and 'energy' differ only in case: keep one of them.",
        ),
        (
            {"timestamp": {"unit": "s", "cumulative": False}},
            "Metric name 'timestamp' is reserved: every reading has an 'id' and a 'timestamp' column in CSV.",
        ),
        (
            {"id": {"unit": "", "cumulative": False}},
            "Metric name 'id' is reserved: every reading has an 'id' and a 'timestamp' column in CSV.",
        ),
        (
            {"Timestamp": {"unit": "", "cumulative": False}},
            "Metric name 'Timestamp' is reserved: every reading has an 'id' and a 'timestamp' column in CSV.",
        ),
        (
            {"ID": {"unit": "", "cumulative": False}},
            "Metric name 'ID' is reserved: every reading has an 'id' and a 'timestamp' column in CSV.",
        ),
        (
            {"": {"unit": "kWh", "cumulative": True}},
            "Metric name '' is not valid: use 1-64 letters, digits, spaces, '_', '-' or '.'.",
        ),
        (
            {"kWh/day": {"unit": "kWh", "cumulative": True}},
            "Metric name 'kWh/day' has '/', which a metric name cannot have: use 1-64 letters, digits, "
            "spaces, '_', '-' or '.'.",
        ),
        (
            {'a"b,c': {"unit": "kWh", "cumulative": True}},
            "Metric name 'a\"b,c' has '\"', ',', which a metric name cannot have: use 1-64 letters, "
            "digits, spaces, '_', '-' or '.'.",
        ),
        (
            {" energy": {"unit": "kWh", "cumulative": True}},
            "Metric name ' energy' starts or ends with a space.",
        ),
        ({"energy": "kWh"}, "Metric 'energy' must be an object with 'unit' and 'cumulative'."),
        (
            {"energy": {"unit": "kilowatt-hours!!!", "cumulative": True}},
            "Metric 'energy' needs a unit of at most 16 characters (it may be empty).",
        ),
        (
            {"energy": {"unit": None, "cumulative": True}},
            "Metric 'energy' needs a unit of at most 16 characters (it may be empty).",
        ),
        ({"energy": {"unit": "kWh"}}, "Metric 'energy' must say whether it is cumulative (true or false)."),
        (
            {"energy": {"unit": "kWh", "cumulative": "yes"}},
            "Metric 'energy' must say whether it is cumulative (true or false).",
        ),
    ],
)
def test_bad_metrics_are_rejected(metrics, message):
    with pytest.raises(ValidationError) as exc:
        validate_metrics(metrics)
    assert exc.value.messages == [message]


def test_good_metrics_pass():
    validate_metrics(
        {"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}}
    )


def test_metric_names_keep_case_and_may_have_spaces_dots_and_dashes():
    validate_metrics(
        {
            "Energy": {"unit": "btu", "cumulative": True},
            "High": {"unit": "degree", "cumulative": False},
            "Low": {"unit": "degree", "cumulative": False},
            "Energy use 2.0": {"unit": "kWh", "cumulative": True},
            "t-out_1": {"unit": "", "cumulative": False},
            "Wärme": {"unit": "MWh", "cumulative": True},
            "x" * 64: {"unit": "", "cumulative": False},
        }
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "Values must contain at least one metric."),
        ([1], "Values must be an object mapping metric names to numbers."),
        ({"energy": float("nan")}, "Value of 'energy' must be a finite number, not nan."),
        ({"energy": float("inf")}, "Value of 'energy' must be a finite number, not inf."),
        ({"energy": float("-inf")}, "Value of 'energy' must be a finite number, not -inf."),
        ({"energy": "12.5"}, "Value of 'energy' must be a number, not '12.5'."),
        ({"energy": True}, "Value of 'energy' must be a number, not True."),
        ({"energy": None}, "Value of 'energy' must be a number, not None."),
        ({"gas": 1.0}, "Unknown metric 'gas'; this source has: energy."),
    ],
)
def test_bad_values_are_rejected(values, message):
    with pytest.raises(ValidationError) as exc:
        validate_values(values, ENERGY)
    assert exc.value.messages == [message]


def test_a_subset_of_the_metrics_is_allowed():
    metrics = {"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}}
    validate_values({"power": 230}, metrics)
    validate_values({"energy": 1.5, "power": 0}, metrics)


@pytest.mark.django_db
def test_full_clean_rejects_a_source_without_metrics(household):
    source = DataSource(household=household, name="Empty", metrics={})
    with pytest.raises(ValidationError) as exc:
        source.full_clean()
    assert list(exc.value.message_dict) == ["metrics"]


@pytest.mark.django_db
def test_units_and_kinds_render_like_the_api():
    source = DataSourceFactory(
        metrics={"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}}
    )
    source.refresh_from_db()
    assert source.units == {"energy": "kWh", "power": "W"}
    assert source.metric_kinds == {"energy": "cumulative", "power": "instantaneous"}
    assert source.is_cumulative("energy") is True
    assert source.is_cumulative("power") is False


@pytest.mark.django_db
def test_price_cannot_be_negative(household):
    source = DataSource(household=household, name="Meter", metrics=ENERGY, price_per_unit=-1)
    with pytest.raises(ValidationError) as exc:
        source.full_clean()
    assert list(exc.value.message_dict) == ["price_per_unit"]


@pytest.mark.parametrize(
    "values",
    [
        {"energy": 1.5},
        {"energy": 0, "power": -2},
        {"energy": 10**300},
        {"energy": 10**400},
        {"energy": float("inf")},
        {"energy": float("-inf")},
        {"energy": float("nan")},
        {"energy": True},
        {"energy": "1"},
        {"energy": None},
        {"gas": 1},
        {},
        [],
        None,
    ],
)
def test_the_quick_values_check_agrees_with_validation(values):
    metrics = {"energy": {"unit": "kWh", "cumulative": True}, "power": {"unit": "W", "cumulative": False}}
    try:
        validate_values(values, metrics)
        valid = True
    except ValidationError:
        valid = False
    assert values_are_valid(values, metrics) is valid


def test_saving_a_source_keeps_the_readings_counted_since_it_was_loaded(db):
    from readings.services import ingest_readings

    source = DataSourceFactory(metrics=ENERGY)
    loaded = DataSource.objects.get(pk=source.pk)
    ingest_readings(source, [{"timestamp": "2025-03-01T12:00:00Z", "values": {"energy": 1}}])

    loaded.name = "Renamed meter"
    loaded.save()

    source.refresh_from_db()
    assert (source.name, source.reading_count) == ("Renamed meter", 1)


def test_a_name_with_a_line_break_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_metrics({"energy\n": {"unit": "kWh", "cumulative": True}})
    assert exc.value.messages == [
        "Metric name 'energy\\n' has '\\n', which a metric name cannot have: use 1-64 letters, digits, "
        "spaces, '_', '-' or '.'."
    ]
