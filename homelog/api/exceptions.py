"""One JSON shape for every API error.

Every error body has ``detail`` (a sentence a person can read) and ``code`` (a stable word a program can
test); invalid input adds ``errors``, the messages of each field (``non_field_errors`` for the object as a
whole).
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

BEARER_CHALLENGE = 'Bearer realm="api"'


class Conflict(exceptions.APIException):
    """The request clashes with what is stored, e.g. a second reading at the same source and timestamp."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with what is already stored."
    default_code = "conflict"


def _messages(detail):
    """Flatten DRF's nested error details into a list of strings."""
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


def _field_errors(detail, prefix=""):
    """{"values": ["..."], "metrics.energy": ["..."]}: nested serializers flattened to dotted names."""
    if isinstance(detail, list) and not any(isinstance(item, dict | list) for item in detail):
        return {prefix or "non_field_errors": [str(item) for item in detail]}
    if isinstance(detail, list):
        errors = {}
        for index, item in enumerate(detail):
            errors.update(_field_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return errors
    if isinstance(detail, dict):
        errors = {}
        for key, value in detail.items():
            errors.update(_field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return errors
    return {prefix or "non_field_errors": [str(detail)]}


def _validation_summary(errors):
    parts = []
    for field, messages in errors.items():
        text = " ".join(messages)
        parts.append(text if field == "non_field_errors" else f"{field}: {text}")
    return "Invalid input. " + " ".join(parts)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(detail)
        body = {"detail": _validation_summary(errors), "code": "invalid", "errors": errors}
    elif isinstance(detail, dict):
        # simplejwt's InvalidToken carries {"detail", "code", "messages"}; keep the sentence and the code.
        body = {
            "detail": str(detail.get("detail") or _messages(detail)[0]),
            "code": str(detail.get("code") or exc.default_code),
        }
    elif isinstance(detail, list):
        body = {"detail": " ".join(_messages(detail)), "code": exc.default_code}
    else:
        body = {"detail": str(detail), "code": getattr(detail, "code", None) or exc.default_code}
    response.data = body
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
    return response


def save_or_conflict(serializer, message, **kwargs):
    """`serializer.save(**kwargs)`, answering 409 with `message` when a unique constraint rejects the row.

    The database decides, so two clients racing to store the same row get one 201 and one 409.
    """
    try:
        with transaction.atomic():
            return serializer.save(**kwargs)
    except IntegrityError as exc:
        raise Conflict(message) from exc
