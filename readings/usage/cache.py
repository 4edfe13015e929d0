"""Computed usage kept in Django's cache, dropped when a source's readings change.

Each source has a version token in the cache; every cached result's key contains the tokens of the sources
it was computed from, so bumping a token (on `readings_changed`) makes the old results unreachable without
finding them. Tokens are written when a source is created and when its readings change, never when usage
is read: reading them is one `get_many` whatever the number of sources (one SQL query with the database
cache). A source whose token is missing (it predates the cache, or the token was evicted) has its usage
computed afresh and not kept until its readings change again; a default token instead could bring back a
result computed before a change.
"""

import hashlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver

from readings.changes import readings_changed

logger = logging.getLogger(__name__)

VERSION_KEY = "usage:version:{}"


def _quietly(operation, *args, default=None, **kwargs):
    # The cache only saves work: when it is away, usage is computed afresh and writes of readings or sources
    # still succeed.
    try:
        return operation(*args, **kwargs)
    except Exception as exc:
        logger.warning("usage cache unavailable (%s): %s", operation.__name__, exc)
        return default


def _new_token():
    return uuid.uuid4().hex


def source_versions(source_ids):
    """{source_id: version token or None} for `source_ids`."""
    keys = {VERSION_KEY.format(source_id): source_id for source_id in source_ids}
    found = _quietly(cache.get_many, keys, default={})
    return {source_id: found.get(key) for key, source_id in keys.items()}


@receiver(readings_changed, dispatch_uid="usage-cache-invalidation")
def forget_usage_of(sender, source_ids, **kwargs):
    tokens = {VERSION_KEY.format(source_id): _new_token() for source_id in source_ids}
    if _quietly(cache.set_many, tokens, timeout=None, default=False) is False:
        # Without a new token the old results would stay reachable: better to forget the old one.
        _quietly(cache.delete_many, list(tokens))


@receiver(post_save, sender="sources.DataSource", dispatch_uid="usage-version-of-a-new-source")
def _version_a_new_source(sender, instance, created, **kwargs):
    if created:
        _quietly(cache.set, VERSION_KEY.format(instance.pk), _new_token(), timeout=None)


def result_key(kind, sources, *parts):
    """A cache key for a result computed from `sources` (and whatever else `parts` name), or None when a
    source has no version token, so that the result must not be kept."""
    versions = source_versions([source.pk for source in sources])
    if None in versions.values():
        return None
    # created_at guards against a new source that reuses a deleted one's id (SQLite can reuse ids).
    identity = [(source.pk, source.created_at.isoformat(), versions[source.pk]) for source in sources]
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
