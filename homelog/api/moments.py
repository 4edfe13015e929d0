"""Timestamps as API clients send them: ISO 8601, with or without an offset, or a date alone.

A moment without an offset is read in the household's time zone, here at the boundary and nowhere else.
"""

import contextlib
import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

# Far enough for old paper logbooks and long-lived meters; beyond it a typo is likelier than a reading,
# and the extremes of the calendar overflow when shifted to UTC.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 1, 1)

EXAMPLE = "e.g. 2025-01-31, 2025-01-31T07:30:00 or 2025-01-31T07:30:00+01:00"


def parse_moment(text):
    """A datetime (naive or aware) or a date from ISO 8601 text; ValidationError if it is neither."""
    text = str(text).strip()
    parsed = None
    # A date first: parse_datetime would also take a date alone, as midnight. Both raise ValueError for
    # well-formed impossible dates such as 2025-02-30.
    with contextlib.suppress(ValueError):
        parsed = parse_date(text) or parse_datetime(text)
    # The text goes in as a parameter, never into the message itself: django-filter formats a message with
    # `%` and its params, and a "%" the client sent would break that.
    if parsed is None:
        raise ValidationError(
            "%(text)s is not an ISO 8601 date or date-time (%(example)s).",
            params={"text": repr(text[:40]), "example": EXAMPLE},
        )
    if not EARLIEST <= _date_of(parsed) < LATEST:
        raise ValidationError(
            "%(text)s is outside the years %(first)s to %(last)s that homelog keeps.",
            params={"text": text[:40], "first": EARLIEST.year, "last": LATEST.year - 1},
        )
    return parsed


def _date_of(value):
    # The calendar date as written: a time zone shifts it by hours, never past the generous bounds.
    return value.date() if isinstance(value, dt.datetime) else value


def aware_moment(value, tzinfo, date_means_end_of_day=False):
    """`value` (datetime or date) as an aware datetime; naive values and dates are read in `tzinfo`.

    A date alone is the start of that day, or with `date_means_end_of_day` the start of the next one, so
    that ``end=2025-01-31`` includes the whole of the 31st.
    """
    if not isinstance(value, dt.datetime):
        if date_means_end_of_day:
            value += dt.timedelta(days=1)
        value = dt.datetime.combine(value, dt.time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tzinfo)
    return value
