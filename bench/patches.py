"""CPU time per request with and without each framework patch, in one process per variant, in one run.

    .venv/bin/python -m bench.patches                       # every patch of bench/http/without_settings.py
    .venv/bin/python -m bench.patches --only csp,messages --requests 3000

bench/http measures the same variants under gunicorn and wrk (`--without`), but on a shared 2-core machine its
rates drift by 20% within a run, more than most patches are worth. Here each variant serves the same requests
through homelog's WSGI application in a process of its own, with the production settings, PostgreSQL and
Redis as in bench/http, and counts the CPU time of that process only: other tenants of the machine change it
little. Variants take turns, round after round, and each one's best round is printed with homelog's.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bench.http.__main__ import production_environment

REPOSITORY = Path(__file__).resolve().parents[1]

PATHS = {
    "readings-100": "/api/sources/{source}/readings?limit=100",
    "source": "/api/sources/{source}",
    "sources": "/api/sources",
}

SERVE = """
import io, os, sys, time
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler
from bench.http.__main__ import access_token, seed
ids = seed(reseed=False)
token = access_token(ids["user"])
app = WSGIHandler()
path, _, query = sys.argv[1].format(source=ids["sources"][0]).partition("?")
environ = {
    "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
    "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": False,
    "wsgi.multiprocess": True, "wsgi.run_once": False, "SERVER_PROTOCOL": "HTTP/1.1",
}
statuses = []
def serve(n):
    for _ in range(n):
        response = app(dict(environ), lambda status, headers: statuses.append(status))
        b"".join(response)
        response.close()
serve(200)
began = time.process_time()
serve(int(sys.argv[2]))
spent = time.process_time() - began
assert set(statuses) == {"200 OK"}, set(statuses)
print(spent / int(sys.argv[2]) * 1e6)
"""


def cpu_microseconds(env, endpoint, requests):
    output = subprocess.run(
        [sys.executable, "-c", SERVE, PATHS[endpoint], str(requests)],
        env=env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.split()[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/homelog_prod_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--only", help="comma-separated patches (default: all)")
    parser.add_argument("--endpoints", default="readings-100,source")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    env = production_environment(args.database, args.redis, 8000)
    env["LOG_LEVEL"] = "WARNING"
    os.environ.update(env)
    from bench.http.without_settings import PATCHES

    # The same settings through bench/http/without_settings.py, nothing taken away: a control.
    variants = {
        "homelog": env,
        "without nothing": {**env, "DJANGO_SETTINGS_MODULE": "bench.http.without_settings"},
    }
    for patch in args.only.split(",") if args.only else PATCHES:
        variants[f"without {patch}"] = {
            **env,
            "DJANGO_SETTINGS_MODULE": "bench.http.without_settings",
            "BENCH_WITHOUT": patch,
        }
    # The database is seeded by the first variant, before anything is measured.
    cpu_microseconds(env, "source", 10)
    print(f"# {os.cpu_count()} cores; {args.requests} requests per variant and round, best of {args.rounds}")
    for endpoint in args.endpoints.split(","):
        best = {}
        for _ in range(args.rounds):
            for name, variant_env in variants.items():
                spent = cpu_microseconds(variant_env, endpoint, args.requests)
                best[name] = min(best.get(name, spent), spent)
        base = best["homelog"]
        for name, spent in best.items():
            change = "" if name == "homelog" else f"  {spent / base - 1:+6.1%} CPU without it"
            print(f"{endpoint:<13} {name:<28} {spent:8.0f} us/request{change}", flush=True)


if __name__ == "__main__":
    main()
