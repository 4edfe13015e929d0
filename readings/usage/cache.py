"""Computed usage kept in Django's cache, under the versions of the sources it was computed from.

Every source has a `readings_version` that its writers of readings move in their own transaction
(`readings.changes.announce_readings_changed`). A cached result's key holds the version of each of its
sources, read from the database when the key is made: a change makes the old results unreachable without
finding them. Since the version commits with the readings, a change made while the cache is away (when an
invalidation sent to the cache would be lost) cannot bring an old result back once the cache returns.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.db.models import IntegerField

from homelog.statements import Statement
from sources.models import DataSource

logger = logging.getLogger(__name__)


def _quietly(operation, *args, default=None, **kwargs):
    # The cache only saves work: when it is away, usage is computed afresh and writes of readings or sources
    # still succeed.
    try:
        return operation(*args, **kwargs)
    except Exception as exc:
        logger.warning("usage cache unavailable (%s): %s", operation.__name__, exc)
        return default


# created_at tells a new source from a deleted one whose id it reuses (SQLite can reuse ids), both at
# version 0; updated_at moves with any change to the source itself (its name, metrics or price).
IDENTITY = ("pk", "created_at", "updated_at", "readings_version")


def _identities(rows):
    return [(pk, created.isoformat(), updated.isoformat(), version) for pk, created, updated, version in rows]


def _household_sources(param, shape):
    household = param("household", IntegerField())
    return DataSource.objects.filter(household_id=household).order_by("pk").values_list(*IDENTITY)


# Compiled once: asked for on every household answer, hit or miss.
HOUSEHOLD_SOURCES = Statement(_household_sources)


def _key(kind, identities, parts):
    digest = hashlib.sha256(repr((identities, parts)).encode()).hexdigest()
    return f"usage:{kind}:{digest}"


def result_key(kind, sources, *parts):
    """A cache key for a result computed from `sources` (and whatever else `parts` name), made from their
    versions as committed now; None when a source no longer exists, so that the result is not kept."""
    ids = sorted({source.pk for source in sources})
    # One indexed query whatever the number of sources.
    identities = _identities(DataSource.objects.filter(pk__in=ids).order_by("pk").values_list(*IDENTITY))
    if len(identities) != len(ids):
        return None
    return _key(kind, identities, parts)


def household_key(kind, household_id, *parts):
    """A cache key for a result computed from all the sources of a household, as they are now: a source
    added, removed or changed, or a change to its readings, makes another key."""
    identities = _identities(HOUSEHOLD_SOURCES.run(None, household=household_id))
    return _key(kind, (household_id, identities), parts)


def cached(key, compute):
    """compute(), or what an earlier call with the same key kept; a None key computes without keeping."""
    if key is None:
        return compute()
    value = _quietly(cache.get, key)
    if value is None:
        value = compute()
        _quietly(cache.set, key, value, timeout=settings.USAGE_CACHE_SECONDS)
    return value
