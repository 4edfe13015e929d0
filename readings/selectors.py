"""What the pages ask about readings: a source's page of them, and the home page's households with their
sources' newest readings and this month's usage."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Household
from readings.models import Reading
from readings.usage import household_summaries
from readings.usage.increase import register_increase
from sources.models import DataSource, SourceType

PAGE_SIZE = 25


@dataclass
class ReadingsPage:
    rows: list
    newer_than: object = None  # cursor for the page of newer readings, None on the newest page
    older_than: object = None  # cursor for the page of older readings, None on the oldest page


def readings_page(source, user, *, before=None, after=None, size=PAGE_SIZE):
    """One page of a source's readings, newest first, each with `user_can_change`.

    Paged by timestamp (keyset) rather than by offset, so that the thousandth page is as quick as the first
    and no COUNT(*) runs over a large table.
    """
    readings = (
        Reading.objects.of_source(source)
        .select_related("created_by")
        .annotate(user_can_change=Exists(Reading.objects.editable_by(user).filter(pk=OuterRef("pk"))))
    )
    if after is not None:
        rows = list(readings.filter(timestamp__gt=after).order_by("timestamp")[: size + 1])
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = readings.filter(timestamp__lte=after).exists()
    else:
        if before is not None:
            readings = readings.filter(timestamp__lt=before)
        rows = list(readings.order_by("-timestamp")[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = (
            before is not None and Reading.objects.of_source(source).filter(timestamp__gte=before).exists()
        )
    _attach_use_since_the_reading_before(source, rows)
    return ReadingsPage(
        rows=rows,
        newer_than=rows[0].timestamp if rows and has_newer else None,
        older_than=rows[-1].timestamp if rows and has_older else None,
    )


def _attach_use_since_the_reading_before(source, rows):
    """Give each reading (newest first) `since`: {register metric: (increase, cost or None)} from the reading
    of that metric before it, by the one rule of an increase (a drop counts as nothing). The page's oldest
    rows look one reading further back: a query per register metric, whatever the number of rows."""
    for reading in rows:
        reading.since = {}
    if not rows:
        return
    price = None if source.price_per_unit is None else Decimal(source.price_per_unit)
    for metric in (name for name in source.metric_names if source.is_cumulative(name)):
        before = (
            Reading.objects.of_source(source)
            .filter(timestamp__lt=rows[-1].timestamp, values__has_key=metric)
            .order_by("-timestamp")
            .values_list("values", flat=True)
            .first()
        )
        previous = None if before is None else float(before[metric])
        for reading in reversed(rows):
            if metric not in reading.values:
                continue
            value = float(reading.values[metric])
            if previous is not None:
                increase = register_increase(previous, value)
                cost = None if price is None else Decimal(repr(increase)) * price
                reading.since[metric] = (increase, cost)
            previous = value


PACE_READINGS = 10


def quiet_after(source):
    """How long after its newest reading a source counts as quiet: a few of its recent intervals between
    readings, and never less than the configured minimum."""
    minimum = dt.timedelta(hours=settings.STALE_AFTER_MIN_HOURS)
    if source.latest_reading_timestamp is None or source.pace_reading_at is None:
        return max(minimum, dt.timedelta(days=7))
    interval = (source.latest_reading_timestamp - source.pace_reading_at) / (PACE_READINGS - 1)
    return max(minimum, interval * settings.STALE_AFTER_INTERVALS)


def households_with_sources(user, now=None):
    """The user's households, each with `.sources`: its sources with their newest reading, whether the user
    may add readings, and `is_quiet` when an active source has not been read for a while."""
    now = now or timezone.now()
    households = list(Household.objects.visible_to(user).with_rights_of(user).order_by("name", "id"))
    sources = (
        DataSource.objects.visible_to(user)
        .with_rights_of(user)
        .with_latest_reading()
        .with_recent_pace(PACE_READINGS)
        .order_by("household_id", "-is_active", "name", "id")
    )
    by_household = {pk: list(group) for pk, group in groupby(sources, key=lambda s: s.household_id)}
    for household in households:
        household.sources = by_household.get(household.pk, [])
        for source in household.sources:
            source.household = household
            source.is_quiet = bool(
                source.is_active
                and source.latest_reading_timestamp is not None
                and now - source.latest_reading_timestamp > quiet_after(source)
            )
    _attach_month_so_far(households, now)
    return households


@dataclass(frozen=True)
class Comparison:
    """One figure this month so far, against the same days of last month and of the same month last year."""

    unit: str
    current: float | None
    previous: float | None
    year_earlier: float | None
    # For solar production more is better; for everything else, less.
    more_is_better: bool = False

    @staticmethod
    def change(now, then):
        """The change in percent, or None when either side is unknown or there was nothing before."""
        if now is None or then is None or then <= 0:
            return None
        return round((now - then) / then * 100)

    @property
    def change_from_previous(self):
        return self.change(self.current, self.previous)

    @property
    def change_from_year_earlier(self):
        return self.change(self.current, self.year_earlier)


def _attach_month_so_far(households, now):
    """Give each household `month` (its usage since the first of this month, in its own time zone) and each
    of its sources `usage`: a Comparison of consumption and one of cost per cumulative metric."""
    summaries = household_summaries(
        [
            (household, household.sources, _first_of_month(now, household.tzinfo), now)
            for household in households
        ],
        interval="month",
        now=now,
    )
    for household, summary in zip(households, summaries, strict=True):
        _attach_summary(household, summary)


def _first_of_month(now, tz):
    return timezone.localdate(now, timezone=tz).replace(day=1)


def _attach_summary(household, summary):
    household.month = summary
    household.month_cost = Comparison(
        "", summary.current.cost, summary.previous.cost, summary.year_earlier.cost
    )
    periods = (summary.current, summary.previous, summary.year_earlier)
    usage = {}
    for current, previous, year_earlier in zip(*(p.sources for p in periods), strict=True):
        more_is_better = current.source.type == SourceType.SOLAR
        usage.setdefault(current.source.pk, []).append(
            (
                current.metric,
                Comparison(
                    current.unit,
                    current.consumption,
                    previous.consumption,
                    year_earlier.consumption,
                    more_is_better,
                ),
                Comparison("", current.cost, previous.cost, year_earlier.cost),
            )
        )
    for source in household.sources:
        source.usage = usage.get(source.pk, [])
