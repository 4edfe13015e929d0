"""Limits on failed logins, per email and per client address, counted in the shared cache.

Each attempt is counted before the password is checked, with an atomic increment (Redis, or the local
memory cache in one process), so that parallel guesses cannot all slip through while the counter is read;
a successful login gives its count back. Windows are fixed, so Retry-After is simply the window's end.
"""

import contextlib
import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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
            with contextlib.suppress(ValueError):  # expired with its window meanwhile
                cache.decr(key)

    def _increment(self, key):
        cache.add(key, 0, timeout=self.period_seconds + 1)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr(), at the very end of its window
            cache.set(key, 1, timeout=self.period_seconds + 1)
            return 1
