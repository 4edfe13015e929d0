"""Bearer-token authentication that checks the token's user without a database query on most requests.

simplejwt reads the user on every request: to refuse a deactivated user and, with CHECK_REVOKE_TOKEN, a token
issued before the current password. With JWT_USER_CACHE_SECONDS set (the default when there is Redis), what
that check needs — the password stamp and the user's fields other than the password hash — is kept in the
shared cache under the user's id. The cache only ever *accepts*: an entry that would refuse the token, a
missing entry and a cache error all leave the decision to the database, as before.

An entry is never stale: saving or deleting a user replaces it with a marker, at once and again when the
transaction commits, and a request fills the cache only where there is no entry or marker (`cache.add`). So
a request that read the user just before a password change committed cannot put the old password back; the
marker outlives by far the moment between a request's read and its write.

Each process also keeps copies of the entries it accepted (`homelog.cache.LocalCopies`), so that most requests
make no round trip to Redis either. A change is announced to every process, through Redis publish/subscribe,
each time its marker is written, and a request applies what was announced before it reads a copy.

While Redis is away, a change cannot write its marker. It then moves the epoch in the database
(`UserCacheEpoch`), in the change's own transaction, and the change goes through. Every entry is kept with
the epoch it was made under and accepts only while that epoch is current; a process reads the epoch from the
database at most every USER_CACHE_EPOCH_SECONDS, and at once after a cache error of its own. So what Redis
held before an outage is not trusted after it: a user deactivated meanwhile is refused once Redis is back.

Users are changed through `save()` and `delete()` (the admin, the API, the pages, `change_password`); a
`QuerySet.update()` of users would bypass the signals and must be followed by `forget_user()`.
"""

import functools
import logging
import re
import threading
from time import monotonic

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from accounts.models import UserCacheEpoch
from homelog.cache import local_copies

logger = logging.getLogger(__name__)

# While it is in the cache, requests read the user from the database and may not fill the entry.
CHANGED = "changed"
CHANGED_MARKER_SECONDS = 60
# What a cache error reads as: like a marker, the database decides and nothing is kept.
CACHE_UNREACHABLE = "unreachable"
# Left out of the entry (and deferred on the user it gives): the password hash has no business in the cache,
# and last_login changes at every login without changing what a token may do.
UNCACHED_FIELDS = {"password", "last_login"}


# The range of the BigAutoField primary key.
USER_ID_MIN, USER_ID_MAX = -(2**63), 2**63 - 1


def _key(user_id):
    return f"auth-user:{user_id}"


def _cached_field_names():
    return [
        field.attname
        for field in get_user_model()._meta.concrete_fields
        if field.attname not in UNCACHED_FIELDS
    ]


def _caching():
    return settings.JWT_USER_CACHE_SECONDS > 0


# This process's copies of accepted entries (made at first use: each holds a subscription), or None where the
# cache cannot announce changes.
_copies_made = {}
_copies_lock = threading.Lock()


def _copies():
    try:
        return _copies_made["users"]
    except KeyError:
        with _copies_lock:
            if "users" not in _copies_made:
                seconds = settings.JWT_USER_CACHE_SECONDS
                _copies_made["users"] = local_copies("auth-user-changes", seconds) if _caching() else None
            return _copies_made["users"]


# This process's reading of the epoch: (value, when read), or None to read it again at the next request.
_epoch_read = None


def _current_epoch():
    global _epoch_read
    read = _epoch_read
    if read is None or monotonic() - read[1] >= settings.USER_CACHE_EPOCH_SECONDS:
        read = _epoch_read = (UserCacheEpoch.current(), monotonic())
    return read[0]


def _read_epoch_again():
    global _epoch_read
    _epoch_read = None


@receiver(setting_changed, dispatch_uid="accounts.authentication.setting_changed")
def _cache_settings_changed(setting, **kwargs):
    if setting in ("CACHES", "JWT_USER_CACHE_SECONDS", "USER_CACHE_EPOCH_SECONDS"):
        _read_epoch_again()
        with _copies_lock:
            copies = _copies_made.pop("users", None)
        if copies is not None:
            copies.close()


# Access tokens whose signature and claims were checked, by their text: a signature that was good stays good,
# so a client sending the same token request after request costs one check, not one each (decoding and
# verifying it was a tenth of a readings page). Its expiry is checked again at every use; access tokens are
# not blacklisted (only refresh tokens are), and revocation is the user check's (get_user).
VERIFIED_TOKENS_KEPT = 512


@functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified_token(raw_token):
    # An invalid token raises, and lru_cache keeps only what returns.
    return authentication.JWTAuthentication().get_validated_token(raw_token)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's JWTAuthentication, taking the user from the cache where an entry accepts the token."""

    def get_validated_token(self, raw_token):
        token = _verified_token(bytes(raw_token))
        try:
            # Against now: a token's own current_time is the moment it was first checked.
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            # Expired since it was first checked: simplejwt's own check gives the usual 401.
            return super().get_validated_token(raw_token)
        return token

    def get_user(self, validated_token):
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        # A signed token is ours, but its claim is checked all the same: a 64-bit integer key, in digits
        # (simplejwt writes it as a string) or as a number.
        if isinstance(user_id, str) and re.fullmatch(r"-?[0-9]{1,19}", user_id):
            number = int(user_id)
        elif type(user_id) is int:
            number = user_id
        else:
            number = None
        if number is None or not USER_ID_MIN <= number <= USER_ID_MAX:
            raise InvalidToken("Token contained no recognizable user identification")
        if not _caching():
            return super().get_user(validated_token)
        copies, key = _copies(), str(user_id)
        version = None
        if copies is not None:
            user = self._accepting(copies.get(key), validated_token)
            if user is not None:
                return user
            version = copies.version()
        entry = self._shared_entry(user_id)
        user = self._accepting(entry, validated_token)
        if user is None:
            if entry is not None:
                # A change's marker, or an entry that refuses: the database decides, request after request,
                # until the marker expires. Nothing is kept meanwhile.
                return super().get_user(validated_token)
            # The database decides: it raises for a missing or inactive user and for a revoked token.
            user = super().get_user(validated_token)
            entry = self._remember(user)
        if copies is not None:
            copies.keep(key, entry, version)
        return user

    def _shared_entry(self, user_id):
        try:
            return cache.get(_key(user_id))
        except Exception:
            # Each backend raises its own errors; without the cache, the database answers. The epoch may
            # have moved meanwhile: it is read again before an entry is trusted.
            logger.warning("the cache is unreachable; reading the user from the database", exc_info=True)
            _read_epoch_again()
            return CACHE_UNREACHABLE

    def _accepting(self, entry, validated_token):
        """The user of an entry that accepts the token; None for anything else."""
        if not isinstance(entry, tuple) or len(entry) != 3:
            return None
        epoch, stamp, values = entry
        if epoch != _current_epoch():  # made before a change that could not reach the cache
            return None
        field_names = _cached_field_names()
        if len(values) != len(field_names):  # written by another version of the User model
            return None
        user = self.user_model.from_db(DEFAULT_DB_ALIAS, field_names, values)
        if not user.is_active:
            return None
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != stamp:
            return None
        return user

    def _remember(self, user):
        entry = (
            _current_epoch(),
            get_md5_hash_password(user.password),
            tuple(getattr(user, name) for name in _cached_field_names()),
        )
        try:
            # add, never set: a change's marker must win over what this request read before the change.
            cache.add(_key(user.pk), entry, timeout=settings.JWT_USER_CACHE_SECONDS)
        except Exception:
            logger.warning("the cache is unreachable; the user is not cached", exc_info=True)
            _read_epoch_again()
        return entry


class JWTScheme(SimpleJWTScheme):
    """The same "jwtAuth" bearer scheme in the OpenAPI schema as simplejwt's own class."""

    target_class = JWTAuthentication


def forget_user(user_id):
    """Make every request read user `user_id` from the database until a while after the change commits.

    When the cache cannot be reached, the epoch moves instead (in the caller's transaction, or in one of its
    own after a commit), so that no entry made before the change is trusted again.
    """
    if not _caching():
        return

    def mark_changed():
        try:
            cache.set(_key(user_id), CHANGED, timeout=CHANGED_MARKER_SECONDS)
            # After the marker: a process that drops its copy and reads the shared entry finds the marker.
            copies = _copies()
            if copies is not None:
                copies.announce(str(user_id))
        except Exception:
            logger.warning("the cache is unreachable; cached users are forgotten by epoch", exc_info=True)
            UserCacheEpoch.move()
            transaction.on_commit(_read_epoch_again)

    mark_changed()
    # Again on commit: until then other connections still read the old row, and may have cached it.
    transaction.on_commit(mark_changed)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.authentication.saved")
def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    # A new user has no entry yet; every login saves the last login alone, which no entry holds.
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    forget_user(instance.pk)


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.authentication.deleted")
def _user_deleted(sender, instance, **kwargs):
    forget_user(instance.pk)
