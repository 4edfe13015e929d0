"""Benchmark: bulk ingestion over HTTP to homelog served by gunicorn on PostgreSQL, against plain COPY.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--batch 10000] [--connections 3] [--workers 3]
                                     [--port 8150] [--database-url postgres://.../homelog_ingest_bench]

Drops and re-creates the benchmark database, starts gunicorn (gunicorn.conf.py) on 127.0.0.1:--port, and
sends --rows readings as JSON arrays of --batch to POST /api/sources/{id}/readings/bulk with a device token,
over --connections keep-alive connections at once. The request bodies are made before the clock starts, as
a device has its readings at hand; the clock stops when the last answer is in. The first batch is then
sent again to time a re-send, which stores nothing. The baseline is the same rows COPYed straight into
the readings table over one connection, --batch rows per COPY and transaction. Target: at least 50,000
readings/s. Runs for about a minute.
"""

import argparse
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup


def start_gunicorn(url, port, workers):
    env = {
        **_setup.bench_environment(url),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": "2",
        "ALLOWED_HOSTS": "127.0.0.1",
        "HTTPS": "off",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_TIMEOUT": "120",
        # No collected static files here, and the API does not need them.
        "PYTHONWARNINGS": "ignore:No directory at",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=_setup.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/schema/")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    sys.exit("gunicorn did not start")


def stop(server):
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def send(port, path, secret, bodies, answers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Token {secret}", "Content-Type": "application/json"}
    for body in bodies:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answers.append((response.status, orjson.loads(response.read())))
    connection.close()


def post_all(port, path, secret, bodies, connections):
    answers = []
    threads = [
        threading.Thread(target=send, args=(port, path, secret, bodies[i::connections], answers))
        for i in range(connections)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, answers


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--database-url", default=_setup.DEFAULT_URL)
    args = parser.parse_args()

    _setup.fresh_database(args.database_url)
    _, source = _setup.make_source()
    from sources.models import DeviceToken

    _, secret = DeviceToken.issue(data_source=source, name="Bench device")
    bodies = [
        orjson.dumps(
            [
                {"timestamp": _setup.moment(i).isoformat(), "values": _setup.values(i)}
                for i in range(start, min(start + args.batch, args.rows))
            ]
        )
        for start in range(0, args.rows, args.batch)
    ]
    path = f"/api/sources/{source.pk}/readings/bulk"

    server = start_gunicorn(args.database_url, args.port, args.workers)
    try:
        seconds, answers = post_all(args.port, path, secret, bodies, args.connections)
        resend_seconds, resent = post_all(args.port, path, secret, bodies[:1], 1)
    finally:
        stop(server)

    created = sum(body["created"] for status, body in answers if status == 200)
    refused = [(status, body) for status, body in answers if status != 200]
    if refused or created != args.rows:
        sys.exit(f"Not every reading was stored: {created} created; first refusal: {refused[:1]}")
    if resent[0][1]["existing"] != len(orjson.loads(bodies[0])):
        sys.exit(f"The re-sent batch was not recognised: {resent[0]}")

    from uuid_utils import uuid7

    baseline = _setup.copy_baseline(
        args.database_url,
        source.pk,
        [
            (uuid7(), _setup.moment(i).isoformat().encode(), orjson.dumps(_setup.values(i)))
            for i in range(args.rows)
        ],
        args.batch,
    )

    rate = args.rows / seconds
    copy_rate = args.rows / baseline
    megabytes = sum(map(len, bodies)) / 1e6
    print(
        f"readings: {args.rows:,} in {len(bodies)} JSON batches of {args.batch:,} ({megabytes:.0f} MB), "
        f"{args.connections} connections, gunicorn with {args.workers} workers, {args.database_url}"
    )
    print(f"COPY (baseline):          {baseline:6.2f} s  {copy_rate:>10,.0f} readings/s")
    print(f"bulk over HTTP:           {seconds:6.2f} s  {rate:>10,.0f} readings/s")
    print(f"re-send of one batch:     {resend_seconds:6.2f} s  (0 created, {args.batch:,} already stored)")
    print(f"HTTP rate / COPY rate: {rate / copy_rate:.2f}")
    print(f"target ≥ 50,000 readings/s: {'met' if rate >= 50_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
