"""HTTP benchmark: homelog under gunicorn with the production settings, against PostgreSQL and Redis.

    .venv/bin/python -m bench.http                      # every endpoint at 10 and 100 connections, 4 s each
    .venv/bin/python -m bench.http --duration 8 --only readings-100
    .venv/bin/python -m bench.http --profile var/readings.speedscope.json   # py-spy on the workers
    .venv/bin/python -m bench.http --only readings-100 --busy 1   # a busy loop beside, as on a crowded host

It seeds a database with 10 sources x 100,000 readings (COPY, once; --reseed to start again), starts
gunicorn with gunicorn.conf.py and prints, for each endpoint and load, requests/s, p50/p99 latency, errors,
how many clients were being answered (fewer than connections: some waited unseen) and the peak memory of
each worker, and the time from starting gunicorn to its first 200 answer. The same
readings query is also served by a floor (bench/http/floor.py: psycopg + orjson, no Django) and a plain DRF
baseline (bench/http/baseline_urls.py) under the same gunicorn settings, and homelog's rate is printed as a
multiple of each: absolute figures depend on the machine, the ratios much less.

Needs wrk (Debian/Ubuntu: `apt-get install -y wrk`), PostgreSQL and Redis. Worker settings come from the
environment as in production (WEB_CONCURRENCY, GUNICORN_THREADS, DATABASE_POOL, ...).
"""

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

REPOSITORY = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

SOURCES = 10
READINGS_PER_SOURCE = 100_000
EMAIL, PASSWORD = "bench@example.com", "bench-password-not-for-production"
# Readings posted by the benchmark lie in the next century, so they can be told apart and removed.
POSTED_FROM = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

TARGETS = {"rate": 500, "vs_baseline": 2.5, "vs_floor": 0.5, "p99_ms": 250, "worker_mb": 80, "start_s": 1.5}


@dataclass
class Endpoint:
    name: str
    path: str
    body: str | None = None  # a POST body; "%s" is replaced by a unique timestamp
    authenticated: bool = True
    # A login checks a deliberately slow password hash: its answers can take longer than wrk's usual bound.
    timeout_seconds: int = 5


@dataclass
class Result:
    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    errors: int
    worker_peaks_mb: list[float] = field(default_factory=list)
    worker_after_mb: list[float] = field(default_factory=list)

    @property
    def clients_answered(self):
        """How many connections were being answered, on average (Little's law: rate x mean latency). wrk
        records a request only once it is answered, so a client left waiting the whole run (never accepted,
        say) shows in no latency and no error count: only here, as fewer clients than connections."""
        return self.rate * self.mean_ms / 1000


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/homelog_prod_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--port", type=int, default=8380)
    parser.add_argument("--duration", type=int, default=4, help="seconds per endpoint and load")
    parser.add_argument("--connections", default="10,100")
    parser.add_argument("--only", help="comma-separated endpoint names (see the table)")
    parser.add_argument("--reseed", action="store_true", help="drop the readings and seed again")
    parser.add_argument(
        "--compare", default="homelog+pool,drf-baseline,floor", help="servers to compare with"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the workers with py-spy during readings-100 at the highest load (or, without it in "
        "--only, during the first endpoint measured)",
    )
    parser.add_argument(
        "--busy",
        type=int,
        default=0,
        help="processes spinning on the CPU beside the servers while they are measured, as other tenants of "
        "a shared host would",
    )
    parser.add_argument(
        "--without",
        default="",
        help="comma-separated framework patches (bench/http/without_settings.py, or 'fair-worker' for the "
        "threaded worker of homelog/gunicorn_worker.py): readings-100 is also measured without each",
    )
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), or brew install wrk (macOS)")
    connections = [int(c) for c in args.connections.split(",")]

    env = production_environment(args.database, args.redis, args.port)
    # The failed-login limiter counts attempts while their password is checked, so many parallel logins of
    # one user from one address are refused by design; raised here so that the login itself is measured.
    env["LOGIN_FAILURE_RATE"] = "1000000/min"
    os.environ.update(env)
    prepare_database(args.database, env)
    import django

    django.setup()
    ids = seed(reseed=args.reseed)
    token = access_token(ids["user"])

    source, poster = ids["sources"][0], ids["sources"][-1]
    endpoints = [
        Endpoint("sources", "/api/sources"),
        Endpoint("source", f"/api/sources/{source}"),
        Endpoint("readings-100", f"/api/sources/{source}/readings?limit=100"),
        Endpoint("readings-1000", f"/api/sources/{source}/readings?limit=1000"),
        Endpoint(
            "post-reading",
            f"/api/sources/{poster}/readings",
            body='{"timestamp": "%s", "values": {"energy": 1.5}}',
        ),
        # Ten months of the seeded data by month, with the previous period and the year before.
        Endpoint(
            "usage",
            f"/api/households/{ids['household']}/usage?start=2024-02-01T00:00:00&end=2024-12-01T00:00:00"
            "&interval=month",
        ),
        Endpoint(
            "login",
            "/api/auth/login",
            body=json.dumps({"username": EMAIL, "password": PASSWORD}),
            authenticated=False,
            timeout_seconds=30,
        ),
    ]
    if args.only:
        wanted = set(args.only.split(","))
        endpoints = [endpoint for endpoint in endpoints if endpoint.name in wanted]
    readings_100 = Endpoint("readings-100", f"/api/sources/{source}/readings?limit=100")

    print(f"# {describe_machine(env)}")
    print(f"# data: {SOURCES} sources x {READINGS_PER_SOURCE:,} readings; {args.duration:g} s per run")
    if args.busy:
        print(f"# {args.busy} busy loop(s) beside the servers")
    print("# login: LOGIN_FAILURE_RATE raised so that parallel logins of one user are not refused\n")
    results, starts = {}, {}
    # The readings list first, on homelog and on the servers it is compared with, one right after the other:
    # on a shared machine the load changes from minute to minute, and ratios need the same conditions.
    variants = [
        ("homelog", env, None),
        ("homelog+pool", {**env, "DATABASE_POOL": "on"}, None),
        ("drf-baseline", {**env, "DJANGO_SETTINGS_MODULE": "bench.http.baseline_settings"}, None),
        ("floor", env, "bench.http.floor:application"),
    ]
    patch_variants = []
    for patch in filter(None, args.without.split(",")):
        if patch == "fair-worker":
            # The threaded worker is used only with threads: both sides of this pair run four of them.
            threaded = {**env, "GUNICORN_THREADS": "4"}
            patch_variants.append(("threads=4", threaded, None))
            patch_variants.append(
                ("threads=4 gthread", {**threaded, "GUNICORN_WORKER_CLASS": "gthread"}, None)
            )
        else:
            without = {**env, "DJANGO_SETTINGS_MODULE": "bench.http.without_settings", "BENCH_WITHOUT": patch}
            patch_variants.append((f"-{patch}", without, None))
    if patch_variants:
        # Measured again last: how far the machine drifted during the run.
        patch_variants.append(("homelog again", env, None))
    variants += patch_variants
    compared = {"homelog", *args.compare.split(","), *(name for name, _, _ in patch_variants)}
    with busy_loops(args.busy):
        if any(endpoint.name == "readings-100" for endpoint in endpoints):
            for name, variant_env, app in variants:
                if name not in compared:
                    continue
                with Server(name, variant_env, args.port, app=app) as server:
                    starts[name] = server.started_in
                    if not server.serves(readings_100, token):
                        print(f"{name}: readings-100 not served by this build, skipped")
                        continue
                    for conns in connections:
                        profile = args.profile if name == "homelog" and conns == max(connections) else None
                        results[name, "readings-100", conns] = server.load(
                            readings_100, conns, args.duration, token, profile
                        )
                        print_row(name, "readings-100", conns, results[name, "readings-100", conns])

        # A fresh server for each other endpoint: what one endpoint leaves queued (slow counts, password
        # hashes) must not slow the next, and each endpoint's worker memory is its own.
        for endpoint in endpoints:
            if endpoint.name == "readings-100":
                continue
            with Server("homelog", env, args.port) as server:
                starts.setdefault("homelog", server.started_in)
                if not server.serves(endpoint, token):
                    print(f"{endpoint.name}: not served by this build, skipped")
                    continue
                for conns in connections:
                    profile = None
                    if args.profile and conns == max(connections) and not args.profile.exists():
                        profile = args.profile
                    result = server.load(endpoint, conns, args.duration, token, profile)
                    results["homelog", endpoint.name, conns] = result
                    remove_posted_readings()
                    print_row("homelog", endpoint.name, conns, results["homelog", endpoint.name, conns])

    print()
    for name, seconds in starts.items():
        print(f"{name}: first 200 answer {seconds:.2f} s after starting gunicorn")
    print_verdict(results, starts, max(connections))


def production_environment(database_url, redis_url, port):
    env = {
        name: value for name, value in os.environ.items() if name not in ("DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SETTINGS_MODULE="homelog.settings",
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS="on",
        PORT=str(port),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@contextmanager
def busy_loops(count):
    """`count` processes that only spin, for as long as the block runs."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def describe_machine(env):
    cores = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    knobs = {k: env[k] for k in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "DATABASE_POOL") if env.get(k)}
    overrides = f" with {knobs}" if knobs else ""
    return f"{cores} cores, load average {load}; gunicorn.conf.py defaults{overrides}"


def manage(*args, env):
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPOSITORY, env=env, check=True, stdout=subprocess.DEVNULL
    )


def prepare_database(database_url, env):
    name = database_url.rsplit("/", 1)[1]
    server = database_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--noinput", env=env)
    manage("createcachetable", env=env)


def seed(reseed):
    """One household, its owner and 10 sources of 100,000 readings each, written with COPY."""
    from django.contrib.auth.hashers import make_password
    from django.core.cache import cache
    from django.db import connection
    from psycopg.types.json import Jsonb
    from uuid_utils.compat import uuid7

    from accounts.models import Household, Membership, Role, User
    from readings.models import Reading
    from readings.services import delete_readings
    from readings.usage import rollup
    from sources.models import DataSource

    user, _ = User.objects.get_or_create(email=EMAIL)
    # Saved only when it changes: a user just changed is read from the database for a minute
    # (accounts/authentication.py), and the runs measure the steady state.
    if not user.check_password(PASSWORD):
        user.password = make_password(PASSWORD)
        user.save(update_fields=["password"])
    # An entry for the same user id that a run against another database left in the same Redis database (the
    # tests' production server) never accepts this user's token, and would send every request to the database.
    cache.delete(f"auth-user:{user.pk}")
    household, _ = Household.objects.get_or_create(
        name="Bench household", defaults={"timezone": "Europe/Berlin"}
    )
    Membership.objects.get_or_create(user=user, household=household, defaults={"role": Role.OWNER})
    sources = []
    for number in range(1, SOURCES + 1):
        source, _ = DataSource.objects.get_or_create(
            household=household,
            name=f"Meter {number:02d}",
            defaults={"type": "electricity", "metrics": {"energy": {"unit": "kWh", "cumulative": True}}},
        )
        sources.append(source.pk)

    remove_posted_readings()
    if reseed:
        delete_readings(Reading.objects.filter(data_source__household=household))
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    seeded = False
    created_at = dt.datetime.now(dt.UTC)
    for source_id in sources:
        if Reading.objects.filter(data_source_id=source_id).count() == READINGS_PER_SOURCE:
            continue
        delete_readings(Reading.objects.filter(data_source_id=source_id))
        began = time.perf_counter()
        connection.ensure_connection()
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(
                "COPY readings_reading (id, data_source_id, timestamp, values, created_by_id, created_at) "
                "FROM STDIN"
            ) as copy,
        ):
            register = 10_000.0
            for minute in range(READINGS_PER_SOURCE):
                register += 0.01 + (minute % 60) / 6000
                copy.write_row(
                    (
                        uuid7(),
                        source_id,
                        start + dt.timedelta(minutes=5 * minute),
                        Jsonb({"energy": round(register, 3)}),
                        user.pk,
                        created_at,
                    )
                )
        print(
            f"# seeded source {source_id}: {READINGS_PER_SOURCE:,} readings "
            f"in {time.perf_counter() - began:.1f} s"
        )
        seeded = True
    # COPY and the clean-up of posted readings bypass the sources' reading counters; COPY the usage rollups.
    DataSource.objects.filter(pk__in=sources).recount_readings()
    if seeded:
        rollup.rebuild(sources)
        # As autovacuum would leave it after a while.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE readings_reading")
    return {"user": user, "household": household.pk, "sources": sources}


def remove_posted_readings():
    from readings.models import Reading
    from readings.services import delete_readings

    delete_readings(Reading.objects.filter(timestamp__gte=POSTED_FROM))


def access_token(user):
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(user).access_token)


class Server:
    """gunicorn with gunicorn.conf.py and the given environment, started and stopped around a block."""

    def __init__(self, name, env, port, app=None):
        self.name, self.env, self.port, self.app = name, env, port, app
        # Kept after the run: the server's own log, for when a run goes wrong.
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)  # noqa: SIM115

    def __enter__(self):
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            *([self.app] if self.app else []),
        ]
        began = time.monotonic()
        # A session of its own, so that stopping it also stops any worker the master leaves behind.
        self.process = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # The first 200 from a real endpoint, not just the port being open.
        path = "/api/sources/0/readings?limit=1" if self.app else "/readyz"
        while True:
            if self.process.poll() is not None:
                sys.exit(f"{self.name}: gunicorn exited, see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=1) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.HTTPError):
                pass
            if time.monotonic() - began > 30:
                sys.exit(f"{self.name}: no answer within 30 s, see {self.log.name}")
            time.sleep(0.01)
        self.started_in = time.monotonic() - began
        return self

    def __exit__(self, *exc):
        # Quick shutdown: requests still queued are of no interest once measured.
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def url(self, endpoint):
        return f"http://127.0.0.1:{self.port}{endpoint.path}"

    def headers(self, endpoint, token):
        headers = {"X-Forwarded-Proto": "https"}
        if endpoint.authenticated:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def serves(self, endpoint, token):
        """Whether this build has the endpoint; a readings list must also hold the rows it is asked for, so
        that no server is measured answering something cheaper (an empty list, an error)."""
        if endpoint.body is not None:
            return True
        request = urllib.request.Request(self.url(endpoint), headers=self.headers(endpoint, token))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return False
            sys.exit(f"{self.name}: {endpoint.path} answered {error.code}: {error.read()[:300]!r}")
        if "limit=" in endpoint.path:
            rows = body["results"] if isinstance(body, dict) else body
            expected = int(endpoint.path.rsplit("limit=", 1)[1])
            if len(rows) != expected:
                sys.exit(f"{self.name}: {endpoint.path} gave {len(rows)} rows, not {expected}")
        return True

    def workers(self):
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def load(self, endpoint, conns, duration, token, profile=None):
        command = [
            "wrk",
            "-t2",
            f"-c{conns}",
            f"-d{duration}s",
            "--timeout",
            f"{endpoint.timeout_seconds}s",
            "-s",
            str(HERE / "report.lua"),
        ]
        for name, value in self.headers(endpoint, token).items():
            command += ["-H", f"{name}: {value}"]
        # Warm the workers (imports, connections) before measuring. Each wrk run posts readings from a
        # moment of its own, so that none repeats a timestamp another stored.
        subprocess.run(
            [*command[:3], "-d1s", *command[4:], self.url(endpoint)],
            env=wrk_environment(endpoint),
            capture_output=True,
            check=True,
        )
        env = wrk_environment(endpoint)
        peaks = {}
        stop = threading.Event()

        def watch_memory():
            while not stop.is_set():
                for pid in self.workers():
                    peak = memory_mb(pid)
                    if peak:
                        peaks[pid] = max(peaks.get(pid, 0), peak)
                stop.wait(0.2)

        watcher = threading.Thread(target=watch_memory)
        watcher.start()
        profiler = None
        if profile is not None:
            profiler = subprocess.Popen(
                [
                    shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--subprocesses",
                    "--pid",
                    str(self.process.pid),
                    "--duration",
                    str(int(duration)),
                    "--format",
                    "speedscope",
                    "--output",
                    str(profile),
                ],
                stdout=subprocess.DEVNULL,
            )
        output = subprocess.run(
            [*command, self.url(endpoint)], env=env, capture_output=True, text=True, check=True
        ).stdout
        if profiler is not None:
            profiler.wait()
        stop.set()
        watcher.join()
        self.drain()
        report = json.loads(
            next(line for line in output.splitlines() if line.startswith("WRK_REPORT")).split(" ", 1)[1]
        )
        errors = sum(report[kind] for kind in ("connect", "read", "write", "status", "timeout"))
        return Result(
            requests=report["requests"],
            rate=report["requests"] / (report["duration_us"] / 1e6),
            p50_ms=report["p50_us"] / 1000,
            p99_ms=report["p99_us"] / 1000,
            mean_ms=report["mean_us"] / 1000,
            errors=errors,
            worker_peaks_mb=sorted(peaks.values()),
            worker_after_mb=sorted(filter(None, (memory_mb(pid, "VmRSS") for pid in self.workers()))),
        )

    def drain(self):
        """Wait (30 s at most) until the requests wrk left queued are answered, so that the next run starts
        on idle workers. Logins queue the longest: each checks a slow password hash."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=10):
                    pass
            except urllib.error.HTTPError:
                pass  # an answer all the same: the floor has no /healthz and says 404
            except OSError:
                time.sleep(0.05)
                continue
            if time.monotonic() - began < 0.25:
                return


def wrk_environment(endpoint):
    first = int(POSTED_FROM.timestamp()) + secrets.randbelow(10**4) * 10**4
    return {**os.environ, "POST_TEMPLATE": endpoint.body or "", "POST_BASE_EPOCH": str(first)}


def memory_mb(pid, field="VmHWM"):
    """A worker's peak (VmHWM) or current (VmRSS) resident memory, shared pages included."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def print_row(server, endpoint, conns, result):
    if result.requests == 0:
        print(f"{server:<20} {endpoint:<14} c={conns:<4} no answer within the run", flush=True)
        return
    peaks = "/".join(f"{mb:.0f}" for mb in result.worker_peaks_mb)
    after = "/".join(f"{mb:.0f}" for mb in result.worker_after_mb)
    print(
        f"{server:<20} {endpoint:<14} c={conns:<4} {result.rate:8.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
        f"p99 {result.p99_ms:7.1f} ms  errors {result.errors:<5} "
        f"clients answered {result.clients_answered:3.0f}  worker MB peak {peaks}, after {after}",
        flush=True,
    )


def print_verdict(results, starts, conns):
    homelog = results.get(("homelog", "readings-100", conns))
    if homelog is None:
        return
    checks = [(f"{homelog.rate:.0f} req/s", homelog.rate >= TARGETS["rate"], f">= {TARGETS['rate']}")]
    for name, key, label in (
        ("drf-baseline", "vs_baseline", "x the DRF baseline"),
        ("floor", "vs_floor", "x the floor"),
    ):
        other = results.get((name, "readings-100", conns))
        if other:
            ratio = homelog.rate / other.rate
            checks.append(
                (f"{ratio:.2f}{label} ({other.rate:.0f} req/s)", ratio >= TARGETS[key], f">= {TARGETS[key]}")
            )
    pool = results.get(("homelog+pool", "readings-100", conns))
    if pool:
        print(f"connection reuse: persistent {homelog.rate:.0f} req/s, psycopg pool {pool.rate:.0f} req/s")
    checks += [
        (f"p99 {homelog.p99_ms:.0f} ms", homelog.p99_ms <= TARGETS["p99_ms"], f"<= {TARGETS['p99_ms']}"),
        (f"{homelog.errors} errors", homelog.errors == 0, "0"),
        (
            f"{homelog.clients_answered:.0f} of {conns} clients answered",
            homelog.clients_answered >= 0.9 * conns,
            f">= {0.9 * conns:.0f}",
        ),
        (
            f"worker memory after the load {max(homelog.worker_after_mb, default=0):.0f} MB "
            f"(peak {max(homelog.worker_peaks_mb, default=0):.0f} MB)",
            max(homelog.worker_after_mb, default=0) <= TARGETS["worker_mb"],
            f"<= {TARGETS['worker_mb']}",
        ),
        (
            f"first answer {starts['homelog']:.2f} s",
            starts["homelog"] <= TARGETS["start_s"],
            f"<= {TARGETS['start_s']}",
        ),
    ]
    print(f"\nreadings?limit=100 at {conns} connections:")
    for text, met, target in checks:
        print(f"  {'ok  ' if met else 'MISS'} {text} (target {target})")


if __name__ == "__main__":
    main()
