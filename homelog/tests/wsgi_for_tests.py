"""A WSGI application for tests of the HTTP server itself, without Django: each answer takes a little while,
as a page waiting on its database does, so that clients queue. The answer names the worker process."""

import os
import time

ANSWER_SECONDS = 0.01


def application(environ, start_response):
    time.sleep(ANSWER_SECONDS)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
