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


def result_key(kind, sources, *parts):
    """A cache key for a result computed from `sources` (and whatever else `parts` name), made from their
    versions as committed now; None when a source no longer exists, so that the result is not kept."""
    ids = sorted({source.pk for source in sources})
    # One indexed query whatever the number of sources. created_at tells a new source from a deleted one whose
    # id it reuses (SQLite can reuse ids), both at version 0.
    found = (
        DataSource.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "created_at", "readings_version")
    )
    identity = [(pk, created.isoformat(), version) for pk, created, version in found]
    if len(identity) != len(ids):
        return None
    digest = hashlib.sha256(repr((identity, parts)).encode()).hexdigest()
    return f"usage:{kind}:{digest}"


def cached(key, compute):
    """compute(), or what an earlier call with the same key kept; a None key computes without keeping."""
    if key is None:
        return compute()
    value = _quietly(cache.get, key)
    if value is None:
        value = compute()
        _quietly(cache.set, key, value, timeout=settings.USAGE_CACHE_SECONDS)
    return value
