"""Request bodies sent in chunks (Transfer-Encoding: chunked), handed to Django with their length.

Django reads CONTENT_LENGTH bytes of a body, and nothing when there is no Content-Length: a chunked body (a
device streaming its batch, a client that does not know the size ahead) was read as empty. gunicorn undoes
the chunking and marks such input `wsgi.input_terminated` (reading it ends where the body ends, PEP 3333's
extension). This reads it, up to its route's limit, and gives it to Django as a body of known length. Past
the limit it answers 413 having read the limit and one byte more, never the rest.
"""

import io

from django.conf import settings
from django.core.handlers.wsgi import get_path_info
from django.http import JsonResponse
from django.urls import Resolver404, resolve

READ_SIZE = 64 * 1024

# Routes that take more than Django's DATA_UPLOAD_MAX_MEMORY_SIZE, by URL name: the setting of their limit.
BODY_LIMITS = {"api:source-readings-bulk": "INGEST_MAX_BODY_BYTES"}


def body_limit(environ):
    """The most bytes a body of this request may have."""
    if environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        # Uploads (the import page's CSV) go to temporary files; only their other fields count in Django.
        return settings.PAGES_IMPORT_MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        name = resolve(get_path_info(environ)).view_name
    except Resolver404:
        name = None
    return getattr(settings, BODY_LIMITS.get(name, "DATA_UPLOAD_MAX_MEMORY_SIZE"))


def _is_chunked(environ):
    return (
        environ.get("wsgi.input_terminated")
        and not environ.get("CONTENT_LENGTH")
        and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


def _read_at_most(stream, size):
    body = bytearray()
    while len(body) < size:
        data = stream.read(min(READ_SIZE, size - len(body)))
        if not data:
            break
        body += data
    return bytes(body)


class ChunkedBodyMiddleware:
    """WSGI middleware: a chunked body read whole and given a CONTENT_LENGTH, or refused with 413."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if not _is_chunked(environ):
            return self.application(environ, start_response)
        limit = body_limit(environ)
        body = _read_at_most(environ["wsgi.input"], limit + 1)
        if len(body) > limit:
            return self.too_large(environ, start_response, limit)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        return self.application(environ, start_response)

    @staticmethod
    def too_large(environ, start_response, limit):
        detail = f"The body is larger than the {limit} bytes accepted here."
        if get_path_info(environ).startswith("/api/"):
            content = JsonResponse({"detail": detail, "code": "too_large"}).content
            content_type = "application/json"
        else:
            content, content_type = detail.encode(), "text/plain; charset=utf-8"
        # The rest of the body is never read here; gunicorn discards it (or closes the connection).
        start_response(
            "413 Content Too Large", [("Content-Type", content_type), ("Content-Length", str(len(content)))]
        )
        return [content]
