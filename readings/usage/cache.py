"""Computed usage kept in Django's cache, dropped when a source's readings change.

Each source has a version token in the cache; every cached result's key contains the tokens of the sources
it was computed from, so bumping a token (on `readings_changed`) makes the old results unreachable without
finding them. A token that is missing (never set, or evicted) is replaced by a new one rather than read as
a default, so an eviction can never bring back a result computed before a change.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.dispatch import receiver

from readings.changes import readings_changed

VERSION_KEY = "usage:version:{}"


def _new_token():
    return uuid.uuid4().hex


def source_versions(source_ids):
    """{source_id: version token} for `source_ids`, creating tokens that are missing."""
    keys = {VERSION_KEY.format(source_id): source_id for source_id in source_ids}
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    for key in missing:
        cache.add(key, _new_token(), timeout=None)
    if missing:
        found.update(cache.get_many(missing))
    return {source_id: found[key] for key, source_id in keys.items()}


@receiver(readings_changed, dispatch_uid="usage-cache-invalidation")
def forget_usage_of(sender, source_ids, **kwargs):
    cache.set_many({VERSION_KEY.format(source_id): _new_token() for source_id in source_ids}, timeout=None)


def result_key(kind, sources, *parts):
    """A cache key for a result computed from `sources` (and whatever else `parts` name)."""
    versions = source_versions([source.pk for source in sources])
    # created_at guards against a new source that reuses a deleted one's id (SQLite can reuse ids).
    identity = [(source.pk, source.created_at.isoformat(), versions[source.pk]) for source in sources]
    digest = hashlib.sha256(repr((identity, parts)).encode()).hexdigest()
    return f"usage:{kind}:{digest}"


def cached(key, compute):
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=settings.USAGE_CACHE_SECONDS)
    return value
