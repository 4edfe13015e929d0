"""Limits on failed logins, per email and per client address, counted in the shared cache.

Each attempt is counted before the password is checked, with an atomic increment (Redis, or the local
memory cache in one process), so that parallel guesses cannot all slip through while the counter is read;
a successful login gives its count back. Windows are fixed, so Retry-After is simply the window's end.

While the shared cache is away, each process counts in its own memory (Django's local-memory cache, whose
increments are atomic within the process): logins are still answered, and still limited, to the same rate per
process; with several worker processes a guesser gets at most that many times the limit until Redis is back.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# The counts of this process while the shared cache cannot be reached.
LOCAL_COUNTS = LocMemCache("homelog-login-failures", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def parse_rate(rate):
    """'5/min' → (5, 60), in DRF's notation for throttle rates."""
    count, period = rate.split("/")
    return int(count), PERIODS[period[0]]


class FailedLoginLimit:
    def __init__(self, request, email):
        self.limit, self.period_seconds = parse_rate(settings.LOGIN_FAILURE_RATE)
        now = time.time()
        window = int(now // self.period_seconds)
        self.seconds_left = math.ceil((window + 1) * self.period_seconds - now)
        address = BaseThrottle().get_ident(request)
        email_digest = hashlib.sha256(email.encode()).hexdigest()
        self.keys = [f"login-failures:email:{email_digest}:{window}", f"login-failures:ip:{address}:{window}"]

    def attempt(self):
        """Count one more attempt; 429 with Retry-After when the email or the address is over the limit."""
        counts = [self._increment(key) for key in self.keys]
        if max(counts) > self.limit:
            raise Throttled(wait=self.seconds_left, detail="Too many failed logins.")

    def succeeded(self):
        for key in self.keys:
            for counts in (cache, LOCAL_COUNTS):
                try:
                    counts.decr(key)
                except ValueError:  # expired with its window meanwhile, or never counted here
                    pass
                except Exception:
                    logger.warning("the cache is unreachable; login counts kept in the process")

    def _increment(self, key):
        try:
            return self._increment_in(cache, key)
        except Exception:
            logger.warning("the cache is unreachable; login counts kept in the process", exc_info=True)
            return self._increment_in(LOCAL_COUNTS, key)

    def _increment_in(self, counts, key):
        counts.add(key, 0, timeout=self.period_seconds + 1)
        try:
            return counts.incr(key)
        except ValueError:  # expired between add() and incr(), at the very end of its window
            counts.set(key, 1, timeout=self.period_seconds + 1)
            return 1
