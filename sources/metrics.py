"""The metrics of a data source and the validation of reading values against them.

A source stores its metrics as ``{"energy": {"unit": "kWh", "cumulative": true}, ...}``: a dict keyed by
metric name, so the API's ``{"name": "unit"}`` rendering and the check of a reading's values are both a
dict look-up, with no extra query.
"""

import math
import re

from django.core.exceptions import ValidationError
from django.db import models


class MetricKind(models.TextChoices):
    """What a metric's values are: a register that counts up (kWh, m³), whose usage is its increase, or a
    level measured at a moment (W, °C), whose usage is its average. The API, the pages, the usage and the
    forms speak of it by these names; a source stores it as `"cumulative": true` or false, the original
    service's form, which its clients send."""

    CUMULATIVE = "cumulative", "Register (counts up)"
    INSTANTANEOUS = "instantaneous", "Level (°C, W, %…)"

    @classmethod
    def of(cls, spec):
        """The kind of a stored metric `spec` ({"unit": ..., "cumulative": bool})."""
        return cls.CUMULATIVE if spec["cumulative"] else cls.INSTANTANEOUS

    def spec(self, unit):
        """The stored form of a metric of this kind and `unit`."""
        return {"unit": unit, "cumulative": self is MetricKind.CUMULATIVE}


MAX_METRICS = 16
MAX_UNIT_LENGTH = 16
MAX_METRIC_NAME_LENGTH = 64
# Letters and digits of any script, "_", "-", "." and spaces: what clients of the original service named
# metrics ("Energy", "High", "sys"). Nothing that CSV quoting or a JSON path would have to escape.
METRIC_NAME_RE = re.compile(r"[\w .-]+")  # to match whole: fullmatch()
_NOT_IN_A_METRIC_NAME = re.compile(r"[^\w .-]")
METRIC_NAME_RULE = f"1-{MAX_METRIC_NAME_LENGTH} letters, digits, spaces, '_', '-' or '.'"
# The columns every reading has in CSV (readings/csv_format.py): a metric of that name could not round-trip.
RESERVED_METRIC_NAMES = frozenset({"id", "timestamp"})


def metric_name_error(name):
    """Why `name` cannot be a metric's name, or None when it can. The one rule, for API, pages and admin."""
    if not isinstance(name, str) or not name:
        return f"Metric name {name!r} is not valid: use {METRIC_NAME_RULE}."
    if len(name) > MAX_METRIC_NAME_LENGTH:
        return f"Metric name {name!r} is too long: {len(name)} characters, at most {MAX_METRIC_NAME_LENGTH}."
    if not METRIC_NAME_RE.fullmatch(name):
        bad = ", ".join(repr(char) for char in dict.fromkeys(_NOT_IN_A_METRIC_NAME.findall(name)))
        return f"Metric name {name!r} has {bad}, which a metric name cannot have: use {METRIC_NAME_RULE}."
    if name != name.strip():
        # A CSV header's names are read stripped: " energy" would come back as "energy".
        return f"Metric name {name!r} starts or ends with a space."
    if name.casefold() in RESERVED_METRIC_NAMES:
        return f"Metric name {name!r} is reserved: every reading has an 'id' and a 'timestamp' column in CSV."
    return None


def validate_metric_name(name):
    """Raise ValidationError unless `name` may name a metric (a form field's validator)."""
    error = metric_name_error(name)
    if error:
        raise ValidationError(error)


def metric_names_clash(names):
    """The messages for names among `names` that differ only in case ("Energy" and "energy"): one source
    cannot have both, as a person reading its charts could not tell them apart."""
    groups = {}
    for name in names:
        if isinstance(name, str):
            groups.setdefault(name.casefold(), []).append(name)
    messages = []
    for group in groups.values():
        if len(group) > 1:
            shown = [repr(name) for name in sorted(set(group))]
            if len(shown) == 1:
                messages.append(f"Metric name {shown[0]} is used twice.")
            else:
                listed = ", ".join(shown[:-1]) + " and " + shown[-1]
                messages.append(f"Metric names {listed} differ only in case: keep one of them.")
    return messages


def validate_metrics(metrics):
    """Raise ValidationError unless `metrics` is a non-empty {name: {"unit": str, "cumulative": bool}}."""
    if not isinstance(metrics, dict) or not metrics:
        raise ValidationError('A data source needs at least one metric, e.g. {"energy": {"unit": "kWh"}}.')
    if len(metrics) > MAX_METRICS:
        raise ValidationError(f"A data source has at most {MAX_METRICS} metrics.")
    errors = []
    for name, spec in metrics.items():
        name_error = metric_name_error(name)
        if name_error:
            errors.append(name_error)
            continue
        if not isinstance(spec, dict) or set(spec) - {"unit", "cumulative"}:
            errors.append(f"Metric {name!r} must be an object with 'unit' and 'cumulative'.")
            continue
        unit = spec.get("unit")
        if not isinstance(unit, str) or len(unit) > MAX_UNIT_LENGTH:
            errors.append(
                f"Metric {name!r} needs a unit of at most {MAX_UNIT_LENGTH} characters (it may be empty)."
            )
        if not isinstance(spec.get("cumulative"), bool):
            errors.append(f"Metric {name!r} must say whether it is cumulative (true or false).")
    errors.extend(metric_names_clash(metrics))
    if errors:
        raise ValidationError(errors)


# The largest magnitude a reading's value may have. Values are doubles (every reader of readings, SQL and
# Python, turns them into float8), and below 1e15 a double still holds a meter's register to a thousandth;
# anything larger is a typo or a broken device, and integers past 64 bits cannot even be written as JSON by
# the API's renderer.
MAX_VALUE_MAGNITUDE = 1e15
_RANGE = "between -1e15 and 1e15"


def _shown(value):
    """`value` as a message shows it: a number far beyond the range in short scientific notation."""
    if type(value) is float or abs(value) < 10**18:
        return repr(value)
    try:
        return f"{value:.6g}"
    except OverflowError:  # an integer too large for a float, e.g. 1 followed by 400 zeros
        return "a number larger than 1.8e308"


def value_error(name, value):
    """The message for `value` of metric `name` when it is not a value homelog accepts, else None: a number
    (not a boolean), finite, with a magnitude of at most MAX_VALUE_MAGNITUDE. The one definition of the rule:
    the API, the bulk and CSV import, the page form, the import command and the admin all come here."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"Value of {name!r} must be a number, not {value!r}."
    if isinstance(value, float) and value != value:
        return f"Value of {name!r} must be a finite number, not {value!r}."
    if not -MAX_VALUE_MAGNITUDE <= value <= MAX_VALUE_MAGNITUDE:
        if isinstance(value, float) and value in (math.inf, -math.inf):
            return f"Value of {name!r} must be a finite number, not {value!r}."
        return f"Value of {name!r} must be {_RANGE}, not {_shown(value)}."
    return None


def values_are_valid(values, metrics):
    """Whether `values` would pass `validate_values`: the quick answer for the paths that check a reading
    per row of a large batch, which ask `validate_values` for the messages only when this says no."""
    if type(values) is not dict or not values or not values.keys() <= metrics.keys():
        return False
    top = MAX_VALUE_MAGNITUDE
    for value in values.values():
        kind = type(value)
        # NaN fails the comparison too.
        if (kind is not float and kind is not int) or not -top <= value <= top:
            return False
    return True


def validate_values(values, metrics):
    """Raise ValidationError unless `values` maps some of the source's metric names to numbers homelog
    accepts (see `value_error`)."""
    if not isinstance(values, dict):
        raise ValidationError("Values must be an object mapping metric names to numbers.")
    if not values:
        raise ValidationError("Values must contain at least one metric.")
    errors = []
    for name, value in values.items():
        if name not in metrics:
            known = ", ".join(sorted(metrics))
            errors.append(f"Unknown metric {name!r}; this source has: {known}.")
        elif (message := value_error(name, value)) is not None:
            errors.append(message)
    if errors:
        raise ValidationError(errors)
