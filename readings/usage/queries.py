"""Usage computed for a source or a household over buckets in its time zone (see readings.usage)."""

from django.conf import settings
from django.utils import timezone

from readings.usage import calendar, sql
from readings.usage.cache import cached, result_key
from readings.usage.calendar import Interval, RangeError
from readings.usage.results import (
    CONSUMPTION_DECIMALS,
    COST_DECIMALS,
    ConsumptionBucket,
    HouseholdSummary,
    MeasurementBucket,
    PeriodUsage,
    SeriesUsage,
    SourceUsage,
    TypeTotal,
    UsageError,
)
from readings.usage.spread import spread
from sources.metrics import MetricKind


def _interval(value):
    try:
        return Interval(value)
    except ValueError:
        choices = ", ".join(Interval)
        raise UsageError(f"Unknown interval {value!r}; choose one of: {choices}.", "interval") from None


def resolve_range(tz, interval, start=None, end=None, now=None):
    """(start, end) as aware datetimes in `tz`, filling in the default range for what is left out."""
    interval = _interval(interval)
    try:
        if start is not None:
            start = calendar.local_moment(start, tz)
        if end is not None:
            end = calendar.local_moment(end, tz)
        if start is None or end is None:
            count = settings.USAGE_DEFAULT_BUCKETS[interval]
            if end is None:
                now = now or timezone.now()
                end = calendar.next_edge(max(now, start) if start else now, interval, tz)
            if start is None:
                start = calendar.shift(calendar.floor_edge(end, interval, tz), interval, -count, tz)
        return start, end
    except (OverflowError, ValueError) as exc:
        raise UsageError(f"The range cannot be used: {exc}") from None


def _edges(start, end, interval, tz):
    try:
        return calendar.bucket_edges(start, end, interval, tz, settings.USAGE_MAX_BUCKETS)
    except RangeError as exc:
        raise UsageError(str(exc)) from None
    except (OverflowError, ValueError) as exc:
        raise UsageError(f"The range cannot be used: {exc}") from None


def _round(value, decimals):
    return None if value is None else round(value, decimals) + 0.0


def _cost(consumption, price):
    return None if consumption is None or price is None else _round(consumption * float(price), COST_DECIMALS)


def _total(values):
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def _coverage(covered_seconds, start, end):
    return round(covered_seconds / (end - start).total_seconds(), 6)


def _consumption_buckets(edges, computed, price, tz):
    consumption, covered = computed
    return [
        ConsumptionBucket(
            start=edges[no].astimezone(tz),
            end=edges[no + 1].astimezone(tz),
            consumption=_round(value, CONSUMPTION_DECIMALS),
            cost=_cost(value, price),
            coverage=_coverage(covered[no], edges[no], edges[no + 1]),
        )
        for no, value in enumerate(consumption)
    ]


def _computed(stats, edges):
    result = spread(stats, edges)
    return result.consumption, result.covered_seconds


def source_usage(source, metric, start=None, end=None, interval=Interval.DAY, now=None):
    """Buckets of one metric of `source` between `start` and `end` in its household's time zone:
    consumption, cost and coverage for a cumulative metric, average/min/max/count for an instantaneous one.
    """
    if metric not in source.metrics:
        known = ", ".join(source.metric_names)
        raise UsageError(f"Unknown metric {metric!r}; this source has: {known}.", "metric")
    interval = _interval(interval)
    tz = source.household.tzinfo
    start, end = resolve_range(tz, interval, start, end, now)
    edges = _edges(start, end, interval, tz)
    cumulative = source.is_cumulative(metric)
    key = result_key(
        "source", [source], metric, cumulative, tz.key, interval.value, start.isoformat(), end.isoformat()
    )
    common = {
        "source": source,
        "metric": metric,
        "unit": source.metrics[metric]["unit"],
        "interval": interval,
    }
    common.update(start=start.astimezone(tz), end=end.astimezone(tz))
    if cumulative:
        computed = cached(
            key, lambda: _computed(sql.cumulative_stats([(source.pk, metric)], [edges])[0, 0], edges)
        )
        price = source.price_per_unit
        consumption = _total(computed[0])
        return SourceUsage(
            kind=MetricKind.CUMULATIVE.value,
            buckets=_consumption_buckets(edges, computed, price, tz),
            total=ConsumptionBucket(
                start=start.astimezone(tz),
                end=end.astimezone(tz),
                consumption=_round(consumption, CONSUMPTION_DECIMALS),
                cost=_cost(consumption, price),
                coverage=_coverage(sum(computed[1]), start, end),
            ),
            **common,
        )
    rows = cached(
        key,
        lambda: [
            (b.total, b.minimum, b.maximum, b.count)
            for b in sql.instantaneous_stats(source.pk, metric, edges)
        ],
    )
    return SourceUsage(
        kind=MetricKind.INSTANTANEOUS.value,
        buckets=[
            _measurement(edges[no].astimezone(tz), edges[no + 1].astimezone(tz), *row)
            for no, row in enumerate(rows)
        ],
        total=_measurement(
            start.astimezone(tz),
            end.astimezone(tz),
            _total(row[0] for row in rows),
            min((row[1] for row in rows if row[3]), default=None),
            max((row[2] for row in rows if row[3]), default=None),
            sum(row[3] for row in rows),
        ),
        **common,
    )


def _measurement(start, end, total, minimum, maximum, count):
    average = total / count if count else None
    return MeasurementBucket(
        start=start,
        end=end,
        average=_round(average, CONSUMPTION_DECIMALS),
        minimum=minimum,
        maximum=maximum,
        count=count,
    )


def household_summary(household, start=None, end=None, interval=Interval.MONTH, now=None):
    """Consumption and cost of every cumulative metric of every source of `household` for the range, totals
    per source type and unit, and the same for the previous period and the same period a year earlier."""
    sources = list(household.data_sources.all())
    return household_summaries([(household, sources, start, end)], interval, now)[0]


def household_summaries(requests, interval=Interval.MONTH, now=None):
    """`household_summary` of several households at once, each given as (household, its sources, start,
    end), in a fixed number of queries whatever the number of households and sources (a page listing
    every household of a user asks for them together)."""
    interval = _interval(interval)
    plans = []
    for household, sources, start, end in requests:
        tz = household.tzinfo
        start, end = resolve_range(tz, interval, start, end, now)
        try:
            ranges = [
                (start, end),
                calendar.previous_range(start, end, interval, tz),
                calendar.year_earlier_range(start, end, tz),
            ]
        except (OverflowError, ValueError) as exc:
            raise UsageError(f"The range cannot be used: {exc}") from None
        # A year by month: the previous period is the year before, computed once.
        unique_ranges = list(dict.fromkeys(ranges))
        periods = [_edges(lo, hi, interval, tz) for lo, hi in unique_ranges]
        series = [
            (source, metric)
            for source in sources
            for metric in source.metric_names
            if source.is_cumulative(metric)
        ]
        plans.append((household, sources, series, ranges, unique_ranges, periods))

    def compute():
        groups = [
            ([(source.pk, metric) for source, metric in series], periods)
            for _, _, series, _, _, periods in plans
        ]
        return [
            {key: _computed(value, periods[key[1]]) for key, value in stats.items()}
            for stats, (_, periods) in zip(sql.cumulative_stats_of_groups(groups), groups, strict=True)
        ]

    # One key for all of them: one look-up, and one write when any of them changed.
    key = result_key(
        "households",
        [source for _, sources, *_ in plans for source in sources],
        [
            (
                household.tzinfo.key,
                [(source.pk, metric) for source, metric in series],
                [(lo.isoformat(), hi.isoformat()) for lo, hi in unique_ranges],
            )
            for household, _, series, _, unique_ranges, _ in plans
        ],
        interval.value,
    )
    summaries = []
    for (household, _, series, ranges, unique_ranges, periods), computed in zip(
        plans, cached(key, compute), strict=True
    ):
        tz = household.tzinfo
        current, previous, year_earlier = (
            _period_usage(series, computed, number, periods[number], tz)
            for number in map(unique_ranges.index, ranges)
        )
        summaries.append(HouseholdSummary(household, interval, current, previous, year_earlier))
    return summaries


def _period_usage(series, computed, period_no, edges, tz):
    start, end = edges[0], edges[-1]
    usages = []
    for series_no, (source, metric) in enumerate(series):
        consumption, covered = computed[series_no, period_no]
        total = _total(consumption)
        usages.append(
            SeriesUsage(
                source=source,
                metric=metric,
                unit=source.metrics[metric]["unit"],
                consumption=_round(total, CONSUMPTION_DECIMALS),
                cost=_cost(total, source.price_per_unit),
                coverage=_coverage(sum(covered), start, end),
                buckets=_consumption_buckets(edges, (consumption, covered), source.price_per_unit, tz),
            )
        )
    totals = {}
    for usage in usages:
        key = (usage.source.type, usage.unit)
        consumption, cost = totals.get(key, (None, None))
        if usage.consumption is not None:
            consumption = (consumption or 0) + usage.consumption
        if usage.cost is not None:
            cost = (cost or 0) + usage.cost
        totals[key] = (consumption, cost)
    costs = [usage.cost for usage in usages if usage.cost is not None]
    return PeriodUsage(
        start=start.astimezone(tz),
        end=end.astimezone(tz),
        sources=usages,
        totals=[
            TypeTotal(type, unit, _round(consumption, CONSUMPTION_DECIMALS), _round(cost, COST_DECIMALS))
            for (type, unit), (consumption, cost) in sorted(totals.items())
        ],
        cost=_round(sum(costs), COST_DECIMALS) if costs else None,
    )
