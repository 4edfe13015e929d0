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
            {"Energy": {"unit": "kWh", "cumulative": True}},
            "Metric name 'Energy' is not valid: use 1-32 lower-case letters, digits or underscores, "
            "starting with a letter.",
        ),
        (
            {"1st": {"unit": "kWh", "cumulative": True}},
            "Metric name '1st' is not valid: use 1-32 lower-case letters, digits or underscores, "
            "starting with a letter.",
        ),
        ({"energy": "kWh"}, "Metric 'energy' must be an object with 'unit' and 'cumulative'."),
        ({"energy": {"unit": "", "cumulative": True}}, "Metric 'energy' needs a unit of 1-16 characters."),
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
