"""gunicorn settings for homelog in production.

    gunicorn -c gunicorn.conf.py

Workers and threads come from the environment (WEB_CONCURRENCY, GUNICORN_THREADS); the defaults suit a small
host behind a proxy or on a home network. See README.md, "Production", for every variable and the figures
behind the defaults (bench/http).
"""

import os

wsgi_app = "homelog.wsgi:application"
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# The CPUs this process may run on (a container's cpuset), not the host's.
cores = len(os.sched_getaffinity(0))
# gunicorn's sync workers by default: each takes the next client from the one listening socket when it is
# free, so the clients are answered in the order they came whichever worker is quicker at the moment. With
# kept-alive connections a client stays with one worker, and three workers on two cores do not get a third of
# the CPU each: the kernel leaves one a core of its own for seconds while the other two share one (0.75,
# 0.45 and 0.45 of a core under wrk), and the clients of those two wait longer. bench/http on 2 cores, the
# readings list at 100 connections, runs taken in turn: 3 sync workers 1143-1206 req/s with p99 96-146 ms,
# 3 x 2 threads (below) 1051-1071 req/s with p99 141-146 ms; with a busy loop beside them on the machine,
# sync 718 req/s and p99 182 ms, threaded 508 and 285. In another series, 3 x 2 holding one connection a
# thread had p99 127-161 ms, and 4 sync workers did as well as 3, 5 and 6 less (1045-1113 req/s against
# 1105-1170): one more process than cores keeps every core busy while a worker waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY") or cores + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
# A sync worker answers one request per connection and is held by a client for as long as it sends its
# request or reads the answer, and for GUNICORN_TIMEOUT at most: fine behind a proxy or on a home network.
# Where clients reach gunicorn directly over slow links, e.g. to upload or download large CSV files,
# GUNICORN_THREADS=2 serves them from gunicorn's threaded worker, which keeps connections alive, waits for a
# slow client without holding a thread, and is not bounded by the timeout; each worker then takes a new
# connection only while it holds no more than one more than the least of the others, at most
# worker_connections, and answers in turn the clients waiting beyond (homelog/gunicorn_worker.py).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or (
    "homelog.gunicorn_worker.FairThreadWorker" if threads > 1 else "sync"
)
# Without that sharing, the first threaded worker to wake took most of a burst of connections (100 from wrk:
# 64/34/2 per worker), and the readings list's p99 at 100 connections was 2.5-3.3x the mean latency; with a
# cap of 40 alone (40/40/20, 34/26/40) 1.8-2.4x; shared evenly (34/34/32) 1.54-1.57x.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS") or 40)
# Not reuse_port: the kernel would spread connections over the workers evenly, but each worker then has a
# listening socket of its own, and the connections waiting on it are reset when the worker is replaced
# (max_requests, a reload): 182 errors in 8 s with GUNICORN_MAX_REQUESTS=500, none without it.

# The app is imported once, before the workers fork: they start faster and share its memory pages.
preload_app = True


def when_ready(server):
    """In the master, before the first fork: import every view too (Django does it on the first request),
    and freeze what is loaded so that the workers' garbage collection leaves those pages shared."""
    import gc

    from django.apps import apps

    if server.cfg.preload_app and apps.ready:  # not when serving some other WSGI app
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 — the import is the point
        gc.freeze()


# A worker that grows for any reason is replaced after a while; the jitter keeps them from restarting at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 10_000)
max_requests_jitter = max_requests // 10

timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5

# The heartbeat file lives in memory: a container's overlay file system can stall it and get workers killed.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# homelog logs one line per request itself, with the user, to stdout (homelog/requestlog.py); gunicorn's
# access log would be a second line per request. gunicorn's own messages (start, worker restarts) go to
# stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Nothing here uses gunicorn's control socket, and a single path per user would clash between instances.
control_socket_disable = True
