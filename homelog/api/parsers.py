"""JSON request bodies, refused when nested deeper than any request of the API needs.

The standard library's decoder recurses once per level, so a body of ``[`` 100,000 times raised
RecursionError (a 500); orjson stops at 1,024 levels, but what it accepts can still be too deep for what reads
it next (a serializer's JSONField writes the value out again, orjson writes at most 254 levels). Homelog's
deepest request is a bulk batch: the array, a reading, its values. 32 levels leave room for any client.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32


class JSONTooDeep(ParseError):
    default_detail = f"JSON nested deeper than {MAX_JSON_DEPTH} levels."


def refuse_too_deep(value, limit=MAX_JSON_DEPTH):
    """`value` as it is, or JSONTooDeep if its arrays and objects nest deeper than `limit` levels.

    Walked a level at a time rather than by recursion, so that no depth a decoder accepted can exhaust
    Python's stack here; a comprehension per level costs 5 ms for 10,000 readings, where orjson takes 7 ms
    to parse them (a loop with a stack of its own took 43 ms).
    """
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, dict | list)
        ]
        if not level:
            return value
    raise JSONTooDeep()


def decode_json(decode, body):
    """`decode(body)` (json.loads, orjson.loads...), refused with JSONTooDeep when too deep."""
    try:
        value = decode(body)
    except RecursionError:
        raise JSONTooDeep() from None
    return refuse_too_deep(value)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (the standard library's decoder, its messages), refusing JSON nested too deep."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            value = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise JSONTooDeep() from None
        return refuse_too_deep(value)
