"""What the pages ask about sources, in one place."""

import datetime as dt
from itertools import groupby

from django.conf import settings
from django.utils import timezone

from accounts.models import Household
from sources.models import DataSource

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
    return households
