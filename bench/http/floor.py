"""The floor: the readings list with nothing but psycopg and orjson, served by the same gunicorn settings.

    gunicorn -c gunicorn.conf.py bench.http.floor:application

No authentication, no routing, no framework: what is left is the query, the JSON and the HTTP server, so
homelog's rate as a share of this one is what Django and DRF cost.
"""

import os
import re
import threading
from urllib.parse import parse_qs

import orjson
import psycopg

DATABASE_URL = os.environ["DATABASE_URL"]
PATH = re.compile(r"^/api/sources/(\d+)/readings$")
QUERY = (
    "SELECT id, data_source_id, timestamp, values, created_by_id, created_at FROM readings_reading "
    "WHERE data_source_id = %s ORDER BY timestamp DESC LIMIT %s"
)
COLUMNS = ("id", "data_source_id", "timestamp", "values", "created_by_id", "created_at")

_local = threading.local()


def _connection():
    # One connection per gunicorn thread, kept for the life of the worker, like CONN_MAX_AGE.
    if getattr(_local, "connection", None) is None or _local.connection.closed:
        _local.connection = psycopg.connect(
            DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True
        )
    return _local.connection


def application(environ, start_response):
    match = PATH.match(environ["PATH_INFO"])
    if match is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    limit = int(parse_qs(environ.get("QUERY_STRING", "")).get("limit", ["100"])[0])
    with _connection().cursor() as cursor:
        # One row more than asked for, as homelog reads to know whether a next page exists.
        rows = cursor.execute(QUERY, (int(match[1]), limit + 1)).fetchall()
    body = orjson.dumps(
        [dict(zip(COLUMNS, row, strict=True)) for row in rows[:limit]], option=orjson.OPT_UTC_Z
    )
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
