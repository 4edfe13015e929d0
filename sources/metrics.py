"""The metrics of a data source and the validation of reading values against them.

A source stores its metrics as ``{"energy": {"unit": "kWh", "cumulative": true}, ...}``: a dict keyed by
metric name, so the API's ``{"name": "unit"}`` rendering and the check of a reading's values are both a
dict look-up, with no extra query.
"""

import math
import re
import sys

from django.core.exceptions import ValidationError

METRIC_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_METRICS = 16
MAX_UNIT_LENGTH = 16


def validate_metrics(metrics):
    """Raise ValidationError unless `metrics` is a non-empty {name: {"unit": str, "cumulative": bool}}."""
    if not isinstance(metrics, dict) or not metrics:
        raise ValidationError('A data source needs at least one metric, e.g. {"energy": {"unit": "kWh"}}.')
    if len(metrics) > MAX_METRICS:
        raise ValidationError(f"A data source has at most {MAX_METRICS} metrics.")
    errors = []
    for name, spec in metrics.items():
        if not isinstance(name, str) or not METRIC_NAME_RE.match(name):
            errors.append(
                f"Metric name {name!r} is not valid: use 1-32 lower-case letters, digits or underscores, "
                "starting with a letter."
            )
            continue
        if not isinstance(spec, dict) or set(spec) - {"unit", "cumulative"}:
            errors.append(f"Metric {name!r} must be an object with 'unit' and 'cumulative'.")
            continue
        unit = spec.get("unit")
        if not isinstance(unit, str) or not unit.strip() or len(unit) > MAX_UNIT_LENGTH:
            errors.append(f"Metric {name!r} needs a unit of 1-{MAX_UNIT_LENGTH} characters.")
        if not isinstance(spec.get("cumulative"), bool):
            errors.append(f"Metric {name!r} must say whether it is cumulative (true or false).")
    if errors:
        raise ValidationError(errors)


def _is_finite(number):
    try:
        return math.isfinite(number)
    except OverflowError:  # an integer too large for a float, e.g. 1 followed by 400 zeros
        return False


def values_are_valid(values, metrics):
    """Whether `values` would pass `validate_values`: the quick answer for the paths that check a reading
    per row of a large batch, which ask `validate_values` for the messages only when this says no."""
    if type(values) is not dict or not values or not values.keys() <= metrics.keys():
        return False
    for value in values.values():
        kind = type(value)
        if kind is float:
            if value - value != 0.0:  # infinity or NaN
                return False
        elif kind is not int or not -_LARGEST_FLOAT <= value <= _LARGEST_FLOAT:
            return False
    return True


_LARGEST_FLOAT = sys.float_info.max


def validate_values(values, metrics):
    """Raise ValidationError unless `values` maps some of the source's metric names to finite numbers."""
    if not isinstance(values, dict):
        raise ValidationError("Values must be an object mapping metric names to numbers.")
    if not values:
        raise ValidationError("Values must contain at least one metric.")
    errors = []
    for name, value in values.items():
        if name not in metrics:
            known = ", ".join(sorted(metrics))
            errors.append(f"Unknown metric {name!r}; this source has: {known}.")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"Value of {name!r} must be a number, not {value!r}.")
        elif not _is_finite(value):
            errors.append(f"Value of {name!r} must be a finite number, not {value!r}.")
    if errors:
        raise ValidationError(errors)
