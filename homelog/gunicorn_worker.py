"""gunicorn's threaded worker, made to share the clients evenly with the other workers.

gunicorn's workers accept from one listening socket, and whichever is awake first takes a new connection: a
burst of connections lands mostly on one worker, which then answers its clients slowly while another idles
(wrk opening 100 connections on 2 cores: 64, 34 and 2 per worker). So each worker tells the others how many
connections it holds (a small table in memory shared by the workers, which gunicorn forks from one master),
and takes a new one only while it holds no more than one more than the least of the others: 100 clients
split 34/33/33, where a cap alone (gunicorn's `worker_connections`, 40) left 40/40/20 or 34/26/40.

Once every worker is at its cap, the clients left in the listen queue would wait for as long as the accepted
ones keep their connections alive, which is for ever under steady load. So a worker at its cap that sees
clients waiting answers with "Connection: close": that client connects again behind the waiting ones, and
clients are answered in the order they came, as by gunicorn's sync worker (one request per connection)
until the crowd is gone.

Letting a connection keep its place for some answers first (a turn of ten) made far fewer connections, but
a client put back in the queue then waited for the others' turns: p99 1.8 s at 200 clients, 0.5 s without.
"""

import multiprocessing
import os
import select
import time

from gunicorn.workers.gthread import ThreadWorker

SLOTS = 64
PID, CONNECTIONS, HEARD_AT = range(3)
# A worker's main loop wakes at least once a second; an entry not renewed for longer is a worker gone.
STALE_MS = 2000
RESERVED = -1  # a slot the master gave a worker that has not started yet

# Made at import, in gunicorn's master, before any worker is forked: every worker shares these pages.
_table = multiprocessing.RawArray("q", SLOTS * 3)
_slots_used = multiprocessing.RawValue("q", 0)  # slots beyond are empty: each look at the others stops there


def _now_ms():
    return int(time.monotonic() * 1000)


def _claim_slot():
    """A slot for a worker about to be forked: one never used, or whose worker has not been heard of for a
    while. Runs in the master, one worker at a time."""
    now = _now_ms()
    for slot in range(SLOTS):
        base = slot * 3
        if _table[base + PID] == 0 or now - _table[base + HEARD_AT] > STALE_MS:
            _table[base + PID], _table[base + CONNECTIONS], _table[base + HEARD_AT] = RESERVED, 0, now
            _slots_used.value = max(_slots_used.value, slot + 1)
            return slot
    return None  # more workers than slots: this one takes connections as gunicorn's own would


class FairThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # in the master
        self.slot = _claim_slot()

    def init_process(self):
        if self.slot is not None:
            _table[self.slot * 3 + PID] = os.getpid()
        try:
            super().init_process()
        finally:
            if self.slot is not None:
                _table[self.slot * 3 + PID] = 0

    # gunicorn's run loop asks `nr_conns < worker_connections` before each wait for events, and stops
    # accepting while it is not so: the limit it reads is the balanced one, and reading it is when this
    # worker tells the others what it holds.
    @property
    def worker_connections(self):
        if self.slot is not None:
            base = self.slot * 3
            _table[base + CONNECTIONS], _table[base + HEARD_AT] = self.nr_conns, _now_ms()
        return self.share_limit()

    def share_limit(self):
        """The limit for `nr_conns < limit`: the least any other worker holds plus two, so that this one takes
        a connection while it holds at most one more than that; never above the cap."""
        if self.slot is None:
            return self.connection_cap
        now = _now_ms()
        least = None
        for other in range(_slots_used.value):
            other_base = other * 3
            pid = _table[other_base + PID]
            if pid == 0 or pid == RESERVED or other == self.slot:
                continue
            if now - _table[other_base + HEARD_AT] > STALE_MS:
                continue
            held = _table[other_base + CONNECTIONS]
            least = held if least is None else min(least, held)
        if least is None:
            return self.connection_cap
        return min(self.connection_cap, least + 2)

    @worker_connections.setter
    def worker_connections(self, cap):
        self.connection_cap = cap

    def handle_request(self, req, conn):
        crowded = self.nr_conns >= self.connection_cap and self.clients_waiting()
        # More than its share, e.g. since connections it was counting closed after a burst: this client
        # connects again, to a worker with fewer.
        over_share = self.nr_conns > self.share_limit()
        if crowded or over_share:
            req.must_close = True
        return super().handle_request(req, conn)

    def clients_waiting(self):
        """Whether a connection is waiting to be accepted: a listening socket is readable then."""
        readable, _, _ = select.select(self.sockets, [], [], 0)
        return bool(readable)
