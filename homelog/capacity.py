"""A cap, shared by every process on the machine, on how much of one kind of CPU-bound work runs at once.

A password check is made slow on purpose (Django's PBKDF2, hundreds of milliseconds of CPU). Left alone, a
storm of logins has every worker hashing and the machine's cores busy, and every other request waits behind
them. With a cap, a check that finds every slot taken is refused at once with `Busy` (the API answers 503
with Retry-After, see homelog/errors.py) and the other workers go on serving.

The slots are lock files (filelock, flock(2) underneath): the operating system releases a slot when its
process ends, however it ends, so a killed worker cannot keep one.
"""

import contextlib
import hashlib
import html
import json
import os
import tempfile
from pathlib import Path

import filelock

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
from django.conf import settings


class Busy(Exception):
    """Every slot of this kind of work is taken: try again in `retry_after` seconds."""

    def __init__(self, message, retry_after=1):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _directory():
    configured = settings.CAPACITY_LOCK_DIR
    if configured:
        return Path(configured)
    # One directory per installation: two homelogs on one machine, or the tests of two checkouts, do not
    # share their slots.
    installation = hashlib.sha256(str(settings.BASE_DIR).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"homelog-capacity-{installation}"


def _taken_slot(kind, slots):
    """One of the `slots` slots of work `kind`, acquired, or None when every one is taken."""
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True)
    for number in range(slots):
        lock = filelock.FileLock(directory / f"{kind}-{number}.lock", timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            continue
        return lock
    return None


@contextlib.contextmanager
def machine_slot(kind, slots, message):
    """Hold one of `slots` slots of work `kind` on this machine for the block, or raise Busy(message)."""
    lock = _taken_slot(kind, slots)
    if lock is None:
        raise Busy(message)
    try:
        yield
    finally:
        lock.release()


# Lock file path -> a descriptor this process keeps open on it, to look at the slot without taking it.
_probes = {}


def has_free_slot(kind, slots):
    """Whether one of the `slots` slots of work `kind` is free at this moment (it may be taken the next).

    A look, not a hold: flock(2) on a descriptor kept open, taken and given back at once, where filelock
    opens and closes the file each time. In a storm this runs for every refused request: 118 µs a look
    through filelock, about 1 µs this way. The slots are flock(2) locks either way (filelock's UnixFileLock).
    """
    if fcntl is None:  # not a Unix: take and give back through filelock
        lock = _taken_slot(kind, slots)
        if lock is not None:
            lock.release()
        return lock is not None
    directory = _directory()
    for number in range(slots):
        path = directory / f"{kind}-{number}.lock"
        descriptor = _probes.get(path)
        if descriptor is None:
            directory.mkdir(parents=True, exist_ok=True)
            descriptor = _probes[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return True
    return False


class RefuseWhenBusy:
    """WSGI middleware: a POST to one of `paths` (the routes that check a password) while every slot of
    `kind` is taken is answered 503 here, before Django: in a storm the refusals come by the hundred a
    second, and through the whole stack each would cost what a readings page does. A refusal is what the
    view would have answered (the hasher refuses with Busy too, which closes the race with this check)."""

    def __init__(self, application, *, kind, slots, paths, message):
        self.application, self.kind, self.slots, self.message = application, kind, slots, message
        self.paths = {path.rstrip("/") for path in paths}

    def __call__(self, environ, start_response):
        if (
            self.slots > 0
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO", "").rstrip("/") in self.paths
            and not has_free_slot(self.kind, self.slots)
        ):
            api = environ["PATH_INFO"].startswith("/api/")
            if api:
                body = json.dumps({"detail": self.message, "code": "busy"}).encode()
                content_type = "application/json"
            else:
                body = (
                    f"<!doctype html><title>Busy · homelog</title><p>{html.escape(self.message)}</p>".encode()
                )
                content_type = "text/html; charset=utf-8"
            start_response(
                "503 Service Unavailable",
                [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Retry-After", "1")],
            )
            return [body]
        return self.application(environ, start_response)
