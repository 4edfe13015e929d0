"""Usage of a household's sources: consumption and cost per hour, day, week, month or year in the household's
time zone, and the summary of a household compared with the previous period and the same period a year
earlier.

    source_usage(source, "energy", start=date(2025, 1, 1), end=date(2025, 2, 1), interval="day")
    household_summary(household, start=date(2025, 3, 1), end=date(2025, 4, 1), interval="month")

`start` and `end` are dates (their first local instant), naive datetimes (local wall-clock time) or aware
datetimes; `end` is exclusive. Left out, they default to the last few buckets up to the current one.
Consumption is rounded to 6 decimals and cost to 4; None means no information, never zero. Bad arguments
raise `UsageError`, whose message is fit for the user.
"""

from readings.usage.calendar import Interval
from readings.usage.queries import household_summaries, household_summary, resolve_range, source_usage
from readings.usage.results import (
    ConsumptionBucket,
    HouseholdSummary,
    MeasurementBucket,
    PeriodUsage,
    SeriesUsage,
    SourceUsage,
    TypeTotal,
    UsageError,
)

__all__ = [
    "ConsumptionBucket",
    "HouseholdSummary",
    "Interval",
    "MeasurementBucket",
    "PeriodUsage",
    "SeriesUsage",
    "SourceUsage",
    "TypeTotal",
    "UsageError",
    "household_summaries",
    "household_summary",
    "resolve_range",
    "source_usage",
]
