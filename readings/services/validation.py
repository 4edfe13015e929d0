"""Validation of a batch of readings: what every batch writer (bulk API, CSV import, the import page, a
single reading with a client's id) checks before anything is stored."""

import datetime as dt
import uuid

from django.core.exceptions import ValidationError

from homelog.api.moments import EARLIEST, EXAMPLE, LATEST, aware_moment, parse_moment
from sources.metrics import validate_values, values_are_valid

NON_FIELD = "non_field_errors"
# A row's instant is its microseconds since PostgreSQL's epoch: the batch's key of an instant (an int hashes
# faster than an aware datetime) and its COPY form.
PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


class InvalidItem:
    """An item its parser already found malformed (a CSV row with the wrong number of fields, say).

    Passed among the items, it is reported at its index like any other bad item.
    """

    __slots__ = ("message",)

    def __init__(self, message):
        self.message = message


def clean_batch(source, items, tzinfo):
    """Validate every item; return the storable rows, the number of repeats within the batch,
    {index: {field: [messages]}} for the bad items, and the contested items.

    A row is a tuple (index, id or None for a new one, timestamp, values, microseconds since PostgreSQL's
    epoch): tuples, because this loop runs once per reading of every import; the microseconds are the
    batch's key of an instant (an int hashes faster than an aware datetime) and its COPY form. A batch that
    repeats a timestamp or an id keeps the first occurrence; a repeat with equal values is the same reading
    sent twice. A repeat with other values is contested: once the batch is stored, whichever item equals
    what is stored at that time is an existing reading, and the others are conflicts (store_readings).
    """
    metrics = source.metrics
    rows = []
    repeats = 0
    errors = {}
    first_at = {}  # microseconds since the epoch -> row
    first_with_id = {}  # client id -> row
    contested = []  # (index, id, timestamp, values, index of the earlier item at that timestamp)
    zone = tzinfo
    fromisoformat = dt.datetime.fromisoformat
    for index, item in enumerate(items):
        if type(item) is not dict:
            message = item.message if isinstance(item, InvalidItem) else _not_an_object(item)
            errors[index] = {NON_FIELD: [message]}
            continue
        item_errors = {}

        reading_id = item.get("id")
        if reading_id is not None:
            reading_id = _parse_id(reading_id, item_errors)

        value = item.get("timestamp")
        timestamp = None
        if type(value) is str:
            try:
                timestamp = fromisoformat(value)
                if not EARLIEST <= timestamp.date() < LATEST:
                    raise ValueError("out of range")
            except ValueError:
                # The API's own parser has the last word, and the message, for whatever the fast one refused.
                try:
                    timestamp = parse_moment(value)
                except ValidationError as exc:
                    item_errors["timestamp"] = exc.messages
                    timestamp = None
        elif isinstance(value, dt.datetime):
            timestamp = value
        elif value is None:
            item_errors["timestamp"] = ["This field is required."]
        else:
            item_errors["timestamp"] = [f"Expected an ISO 8601 date-time ({EXAMPLE})."]
        # A date alone (parse_moment's answer to "2025-1-5") has no tzinfo either: it becomes local midnight.
        if timestamp is not None and getattr(timestamp, "tzinfo", None) is None:
            if zone is None:
                zone = source.household.tzinfo
            timestamp = aware_moment(timestamp, zone)

        values = item.get("values")
        if values is None:
            item_errors["values"] = ["This field is required."]
        elif not values_are_valid(values, metrics):
            try:
                validate_values(values, metrics)
            except ValidationError as exc:
                item_errors["values"] = exc.messages

        if item_errors:
            errors[index] = item_errors
            continue

        instant = (timestamp - PG_EPOCH) // MICROSECOND
        earlier = first_at.get(instant)
        if earlier is not None:
            if earlier[3] != values:
                # Which of the two is right depends on what is stored: decided when the batch is stored.
                contested.append((index, reading_id, timestamp, values, earlier[0]))
            elif reading_id is not None and earlier[1] is not None and reading_id != earlier[1]:
                errors[index] = {"id": [f"Item {earlier[0]} of this batch is the same reading, other id."]}
            else:
                repeats += 1
            continue
        row = (index, reading_id, timestamp, values, instant)
        if reading_id is not None:
            earlier = first_with_id.get(reading_id)
            if earlier is not None:
                errors[index] = {"id": [f"Item {earlier[0]} of this batch already has this id."]}
                continue
            first_with_id[reading_id] = row
        first_at[instant] = row
        rows.append(row)
    return rows, repeats, errors, contested


def contested_error(earlier_index):
    return {"timestamp": [f"Item {earlier_index} of this batch has this timestamp with other values."]}


def _not_an_object(item):
    shown = repr(item)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"Each reading must be an object with 'timestamp' and 'values', not {shown}."


def _parse_id(value, item_errors):
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        item_errors["id"] = [f"Id must be a UUID, not {value!r}."]
        return None


def conflict(timestamp):
    return {
        "timestamp": [
            f"A reading with other values is already stored at {timestamp.isoformat()}; "
            "change it on its own rather than in a batch."
        ]
    }


def id_clash(reading_id):
    return {"id": [f"Id {reading_id} is already used by another reading."]}
