"""Django's default password hasher, as strong, that cannot take the machine's CPU from other requests."""

import base64

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils.encoding import force_bytes

from homelog import background
from homelog.capacity import machine_slot

BUSY = "Too many passwords are being checked at the moment; try again in a second."


class CappedPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 with Django's iterations, whose hashes (checking a password, setting one, and the decoy
    hash for an unknown email all go through encode()):

    * run at most PASSWORD_CHECKS_AT_ONCE at a time on the machine; the others are refused at once
      (homelog.capacity.Busy, a 503 with Retry-After);
    * run in a helper process at the lowest priority (homelog.background), so that requests are answered
      first when the cores are busy.

    The algorithm's name is Django's own, so stored hashes stay valid either way."""

    def encode(self, password, salt, iterations=None):
        slots = settings.PASSWORD_CHECKS_AT_ONCE
        if slots <= 0:  # no cap, as Django's own hasher
            return super().encode(password, salt, iterations)
        self._check_encode_args(password, salt)
        iterations = iterations or self.iterations
        with machine_slot(PASSWORD_CHECK, slots, BUSY):
            digest = background.pbkdf2_hmac(
                self.digest().name, force_bytes(password), force_bytes(salt), iterations
            )
        encoded = base64.b64encode(digest).decode("ascii").strip()
        return f"{self.algorithm}${iterations}${salt}${encoded}"


PASSWORD_CHECK = "password-check"
