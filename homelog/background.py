"""CPU-bound work run in a helper process at the lowest priority (nice 19), so that the machine's cores go to
answering requests first and to this work when they are free.

Used for password hashes (accounts/hashers.py): a hash is hundreds of milliseconds of CPU on purpose, and run
in a worker it competes at full priority with every other request. Each worker process starts its helper on
first use ("spawn": a fresh interpreter, nothing of the worker's connections or threads copied) and keeps it.
"""

import atexit
import concurrent.futures
import hashlib
import multiprocessing
import os
import threading

_lock = threading.Lock()
_pool = None


def _lowest_priority():
    os.nice(19)


def _pool_of_this_process():
    global _pool
    with _lock:
        if _pool is None:
            _pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_lowest_priority
            )
            # Stopped before the interpreter takes its modules apart, which the pool's own clean-up needs.
            atexit.register(_pool.shutdown)
        return _pool


def _forget_pool(pool):
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None


def pbkdf2_hmac(hash_name, password, salt, iterations):
    """hashlib.pbkdf2_hmac in the helper process; in this one if the helper cannot be had."""
    for _ in range(2):
        pool = _pool_of_this_process()
        try:
            return pool.submit(hashlib.pbkdf2_hmac, hash_name, password, salt, iterations).result()
        except concurrent.futures.process.BrokenProcessPool:
            # The helper died (killed, out of memory): start another one, once.
            _forget_pool(pool)
    return hashlib.pbkdf2_hmac(hash_name, password, salt, iterations)
