"""JSON rendering with orjson: several times faster than the standard library on long lists of readings."""

import decimal

import orjson
from django.utils.functional import Promise
from rest_framework.renderers import JSONRenderer

# UTC as "Z", like DRF's own DateTimeField, so rows rendered straight from the database look exactly like
# rows rendered through a serializer.
ORJSON_OPTIONS = orjson.OPT_UTC_Z
# Keys that are not strings (a number, a date), written as the standard library would: an option that makes
# every dict slower to write (by half, on a page of readings), so only for data that needs it.
ORJSON_ANY_KEYS = ORJSON_OPTIONS | orjson.OPT_NON_STR_KEYS


def _default(obj):
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    if isinstance(obj, Promise):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


class ORJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        try:
            return orjson.dumps(data, default=_default, option=ORJSON_OPTIONS)
        except orjson.JSONEncodeError:
            return orjson.dumps(data, default=_default, option=ORJSON_ANY_KEYS)
