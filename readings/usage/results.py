"""What usage answers: the buckets and summaries that readings.usage.queries computes, and UsageError."""

import dataclasses
import datetime as dt

from readings.usage.calendar import Interval

CONSUMPTION_DECIMALS = 6
COST_DECIMALS = 4


class UsageError(ValueError):
    """Arguments usage cannot be computed for; the message says why, `field` names the culprit (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclasses.dataclass(frozen=True)
class ConsumptionBucket:
    start: dt.datetime
    end: dt.datetime
    consumption: float | None
    cost: float | None
    # Share of the bucket's time that lies between two readings: 1.0 when the bucket is fully known.
    coverage: float


@dataclasses.dataclass(frozen=True)
class MeasurementBucket:
    start: dt.datetime
    end: dt.datetime
    average: float | None
    minimum: float | None
    maximum: float | None
    count: int


@dataclasses.dataclass(frozen=True)
class SourceUsage:
    source: object
    metric: str
    unit: str
    kind: str  # "cumulative" or "instantaneous"
    interval: Interval
    start: dt.datetime
    end: dt.datetime
    buckets: list
    total: ConsumptionBucket | MeasurementBucket


@dataclasses.dataclass(frozen=True)
class SeriesUsage:
    source: object
    metric: str
    unit: str
    consumption: float | None
    cost: float | None
    coverage: float
    buckets: list[ConsumptionBucket]


@dataclasses.dataclass(frozen=True)
class TypeTotal:
    type: str
    unit: str
    consumption: float | None
    cost: float | None


@dataclasses.dataclass(frozen=True)
class PeriodUsage:
    start: dt.datetime
    end: dt.datetime
    sources: list[SeriesUsage]
    totals: list[TypeTotal]
    cost: float | None


@dataclasses.dataclass(frozen=True)
class HouseholdSummary:
    household: object
    interval: Interval
    current: PeriodUsage
    previous: PeriodUsage
    year_earlier: PeriodUsage
